"""How the command line turns a range of days into as few Dagster runs as possible."""

from datetime import date, datetime, timezone

import pytest

from mida_pipeline.config import ConfigError, Settings
from mida_pipeline.runner import plan

SETTINGS = Settings(start_date=date(2024, 1, 1))
NOW = datetime(2026, 3, 15, 9, 30, tzinfo=timezone.utc)  # the clock the refusals are judged against


def test_a_range_covers_the_weeks_that_end_inside_it():
    p = plan(date(2025, 12, 24), date(2026, 1, 11), SETTINGS)
    # Weeks ending Sunday 28 Dec, 4 Jan and 11 Jan; the week of 22 Dec is not whole in the range but ends in it.
    assert p.weeks == [date(2025, 12, 22), date(2025, 12, 29), date(2026, 1, 5)]
    assert (p.start, p.end) == (date(2025, 12, 24), date(2026, 1, 11))


def test_a_single_sunday_syncs_the_week_it_ends():
    assert plan(date(2026, 4, 5), date(2026, 4, 5), SETTINGS).weeks == [date(2026, 3, 30)]
    assert plan(date(2026, 4, 4), date(2026, 4, 4), SETTINGS).weeks == []


def test_weeks_before_the_start_date_are_left_out():
    assert plan(date(2024, 1, 1), date(2024, 1, 14), SETTINGS).weeks == [date(2024, 1, 1), date(2024, 1, 8)]
    late_start = Settings(start_date=date(2024, 1, 2))
    assert plan(date(2024, 1, 7), date(2024, 1, 14), late_start).weeks == [date(2024, 1, 8)]


@pytest.mark.parametrize(
    "start, end, message",
    [
        (date(2026, 1, 10), date(2026, 1, 9), "is after --end"),
        (date(2023, 12, 31), date(2024, 1, 2), "MIDA_START_DATE"),
        (date(2026, 3, 14), date(2026, 3, 15), "has not closed yet"),
    ],
)
def test_a_range_that_cannot_be_synced_is_refused_with_the_reason(start, end, message):
    with pytest.raises(ConfigError, match=message):
        plan(start, end, SETTINGS, now=NOW)


def test_the_latest_closed_day_is_accepted():
    assert plan(date(2026, 3, 14), date(2026, 3, 14), SETTINGS, now=NOW).end == date(2026, 3, 14)


def _open_instance(home: str, results) -> None:
    import os

    os.environ["DAGSTER_HOME"] = home
    try:
        from mida_pipeline.runner import instance

        instance().get_runs(limit=1)
        results.put("ok")
    except Exception as exc:  # the race shows as sqlite errors on the schema's version table
        results.put(f"{type(exc).__name__}: {str(exc)[:120]}")


def test_commands_starting_at_once_on_a_new_dagster_home_create_its_storage_once(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_open_instance, args=(str(tmp_path / "home"), results)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [results.get(timeout=5) for _ in procs] == ["ok"] * 4


REFUSED = """
import sys
from datetime import date
from mida_pipeline.config import ConfigError, Settings
from mida_pipeline.runner import run_range
try:
    run_range({day}, {day}, settings=Settings(start_date=date(2024, 1, 1){setting}))
except ConfigError as exc:
    print(exc)
print(sorted(m for m in ("mida_pipeline.definitions", "dagster_dbt", "dbt") if m in sys.modules))
"""


@pytest.mark.parametrize(
    "day, setting, message",
    [("date(2026, 3, 14)", "", "nothing to sync"), ("date(2099, 1, 1)", ", bss_secret_key='k'", "has not closed yet")],
)
def test_a_refused_range_is_refused_before_the_code_location_loads(day, setting, message):
    """A command refused for its settings or its days answers at once: neither dbt nor the definitions are loaded."""
    import subprocess
    import sys

    code = REFUSED.format(day=day, setting=setting)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    refusal, loaded = done.stdout.strip().splitlines()
    assert message in refusal and loaded == "[]"
