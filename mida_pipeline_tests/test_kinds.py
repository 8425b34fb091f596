"""The suite's own bookkeeping: what kind of work a command line starts, and so which marker a test needs."""

from __future__ import annotations

import pytest

from mida_pipeline_tests.kinds import kind_of
from mida_pipeline_tests.scheduling import group_of


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (["/x/.venv/bin/mida-pipeline", "sync", "--date", "2026-03-01"], "pipeline"),
        (["/x/.venv/bin/mida-pipeline", "backfill", "--start", "a", "--end", "b"], "pipeline"),
        (["/x/.venv/bin/mida-pipeline", "doctor"], "process"),
        (["/x/.venv/bin/python", "-m", "benchmarks.run", "--quick"], "pipeline"),
        (["/x/.venv/bin/python", "-m"], "process"),
        (["/x/.venv/bin/python", "-c", "import mida_pipeline"], "process"),
        (["/x/.venv/bin/dbt", "build", "--vars", "{}"], "dbt"),
        (["/x/.venv/bin/dagster-daemon", "run", "-w", "workspace.yaml"], "dagster"),
        (["/x/.venv/bin/dagster", "asset", "materialize"], "dagster"),
        (["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/initdb", "-D", "d"], "postgres"),
        (["/usr/bin/chromium", "--headless"], "browser"),
        ("git", "process"),
        ([], "process"),
    ],
)
def test_a_command_line_is_classified_by_the_program_it_runs(args, kind):
    assert kind_of(args) == kind


@pytest.mark.parametrize(
    ("nodeid", "group"),
    [
        ("mida_pipeline_tests/test_days.py::test_x", "mida_pipeline_tests/test_days.py"),
        ("mida_pipeline_tests/report/test_build.py::test_x", "mida_pipeline_tests/report"),
        (
            "mida_pipeline_tests/reliability/test_faults.py::test_x[round-1]",
            "mida_pipeline_tests/reliability/test_faults.py::test_x",
        ),
        (
            "mida_pipeline_tests/reliability/test_crash.py::test_x[lanes-1-2]",
            "mida_pipeline_tests/reliability/test_crash.py::test_x[lanes-1-2]",
        ),
    ],
)
def test_tests_sharing_a_world_share_a_group(nodeid, group):
    assert group_of(nodeid) == group
