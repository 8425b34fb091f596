"""What each test waits on, observed rather than guessed: the processes it starts and the Dagster runs it executes.

A test that starts heavy work (a whole pipeline, dbt, a Dagster run or process, Chromium, PostgreSQL) must carry
a marker for it: `make test-fast` deselects by these markers, so an unmarked dbt build would slip into the
edit-test loop unseen. The kinds a test started go into the JUnit report as the property `kinds`, which
`benchmarks/suite_time.py` sums for docs/testing.md.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# Each kind of heavy work and the marker that declares it (pyproject.toml lists the markers).
MARKERS = {
    "pipeline": "slow",
    "dbt": "dbt",
    "dagster": "dagster",
    "browser": "browser",
    "postgres": "postgres",
}
HEAVY = tuple(sorted(set(MARKERS.values())))
# `mida-pipeline` commands that run the pipeline (the others answer from configuration or one cheap call).
PIPELINE_COMMANDS = {"sync", "backfill", "demo"}

_current: set[str] | None = None


def kind_of(args) -> str:
    """The kind of work a command line starts: one of MARKERS, or `process` for a light one (a doctor call,
    `python -c`, git, ...)."""
    if isinstance(args, (str, bytes, os.PathLike)):
        args = [args]
    args = [os.fsdecode(a) for a in args]
    if not args:
        return "process"
    # `runuser -u postgres -- initdb ...`: the program is after the `--`.
    if Path(args[0]).name == "runuser" and "--" in args:
        args = args[args.index("--") + 1 :]
    program = Path(args[0]).name
    rest = args[1:]
    if program == "mida-pipeline":
        return "pipeline" if PIPELINE_COMMANDS & set(rest) else "process"
    if program.startswith("python") and len(rest) >= 2 and rest[0] == "-m" and rest[1].startswith("benchmarks"):
        return "pipeline"
    if program == "dbt":
        return "dbt"
    if program.startswith("dagster"):
        return "dagster"
    if program in {"initdb", "pg_ctl", "postgres"}:
        return "postgres"
    if program in {"chromium", "chromium-browser", "chrome"} or "playwright" in " ".join(args[:2]):
        return "browser"
    return "process"


def _note(kind: str) -> None:
    if _current is not None:
        _current.add(kind)


class _ObservedPopen(subprocess.Popen):
    def __init__(self, args, *more, **kwargs):
        _note(kind_of(args))
        super().__init__(args, *more, **kwargs)


def _observe_runs(original):
    def execute_in_process(self, *args, **kwargs):
        _note("dagster")
        return original(self, *args, **kwargs)

    return execute_in_process


def pytest_configure(config: pytest.Config) -> None:
    # Every subprocess (subprocess.run, check_output, Popen, playwright's driver) is made by Popen; every in-process
    # Dagster run (materialize, a job's execute_in_process) ends in JobDefinition.execute_in_process.
    from dagster._core.definitions.job_definition import JobDefinition

    subprocess.Popen = _ObservedPopen
    JobDefinition.execute_in_process = _observe_runs(JobDefinition.execute_in_process)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    global _current
    _current = set()
    try:
        return (yield)
    finally:
        _current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem):
    # Not recorded: a teardown also ends the worlds of the module or session that ends with this test (it stops the
    # PostgreSQL server a deploy test started), which is not this test's work.
    global _current
    observed, _current = _current, None
    try:
        return (yield)
    finally:
        _current = observed


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.when != "teardown" or _current is None:
        return report
    observed = sorted(_current)
    item.user_properties.append(("kinds", ",".join(observed)))
    report.user_properties = list(item.user_properties)
    undeclared = [k for k in observed if k in MARKERS and not any(item.get_closest_marker(m) for m in HEAVY)]
    if undeclared and report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} started {', '.join(undeclared)} work but carries none of the markers {', '.join(HEAVY)}: "
            f"mark it (pytest.mark.{MARKERS[undeclared[0]]}) so `make test-fast` leaves it out"
        )
    return report
