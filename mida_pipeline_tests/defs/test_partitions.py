"""Partition keys and windows: days close in MIDA_TIMEZONE, weeks are keyed by their Monday, schedules sync what closed."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from mida_pipeline.defs import partitions, schedules


def window(definition: dg.TimeWindowPartitionsDefinition, key: str) -> tuple[datetime, datetime]:
    w = definition.time_window_for_partition_key(key)
    return w.start, w.end


@pytest.mark.parametrize(
    "day, monday",
    [
        (date(2026, 1, 1), "2025-12-29"),  # a week across the year boundary
        (date(2026, 1, 4), "2025-12-29"),  # its Sunday
        (date(2026, 1, 5), "2026-01-05"),  # the next Monday starts a new week
        (date(2026, 4, 2), "2026-03-30"),  # a week across a month boundary
        (date(2024, 2, 29), "2024-02-26"),  # a leap day
    ],
)
def test_a_day_falls_in_the_week_keyed_by_its_monday(day, monday):
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(partitions.TIMEZONE))
    containing = partitions.weekly.get_partition_keys(current_time=moment + timedelta(days=7))
    start, end = window(partitions.weekly, monday)
    assert monday in containing and start.date() <= day < end.date()
    assert start.weekday() == 0 and (end - start) == timedelta(days=7)


def test_weekly_keys_step_from_monday_to_monday_across_the_new_year():
    keys = partitions.weekly.get_partition_keys_in_range(dg.PartitionKeyRange("2025-12-22", "2026-01-12"))
    assert keys == ["2025-12-22", "2025-12-29", "2026-01-05", "2026-01-12"]


def test_a_day_is_a_calendar_day_in_the_zone_even_across_a_clock_change():
    berlin = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="Europe/Berlin")
    start, end = window(berlin, "2026-03-29")  # clocks go forward: a 23-hour day
    assert (start.isoformat(), end.isoformat()) == ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")
    assert end.timestamp() - start.timestamp() == timedelta(hours=23).total_seconds()


def test_a_partition_exists_only_once_its_day_has_closed_in_the_zone():
    kiritimati = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="Pacific/Kiritimati")
    # 11:00 UTC on 1 March is already 2 March 01:00 in Kiritimati (UTC+14): 1 March has closed there, not in UTC.
    now = datetime(2026, 3, 1, 11, tzinfo=ZoneInfo("UTC"))
    assert kiritimati.get_partition_keys(current_time=now)[-1] == "2026-03-01"
    assert partitions.daily.get_partition_keys(current_time=now)[-1] == "2026-02-28"


def _tick(schedule: dg.ScheduleDefinition, when: datetime) -> list[str]:
    with dg.build_schedule_context(scheduled_execution_time=when) as context:
        return [r.partition_key for r in schedule.evaluate_tick(context).run_requests]


def test_the_daily_schedule_syncs_the_day_that_just_closed():
    assert schedules.daily_schedule.execution_timezone in (None, partitions.TIMEZONE)
    when = datetime(2026, 3, 2, 1, 0, tzinfo=ZoneInfo(partitions.TIMEZONE))
    assert _tick(schedules.daily_schedule, when) == ["2026-03-01"]


def test_the_weekly_schedule_syncs_the_week_before_on_monday():
    when = datetime(2026, 1, 5, 1, 30, tzinfo=ZoneInfo(partitions.TIMEZONE))
    assert when.weekday() == 0
    assert _tick(schedules.weekly_schedule, when) == ["2025-12-29"]


def test_raw_assets_backfill_in_one_run_and_share_an_api_pool():
    from mida_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    for name in (
        "mida_experiments",
        "mida_experiment_results",
        "mida_goals",
        "mida_events",
        "bss_analytics_daily",
        "bss_analytics_weekly",
    ):
        node = graph.get(dg.AssetKey(name))
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), name
    pools = {
        name: defs.resolve_assets_def(name).op.pool
        for name in ("mida_experiments", "mida_goals", "mida_experiment_results")
    }
    assert set(pools.values()) == {"mida_api"}
    assert (
        defs.resolve_assets_def("bss_analytics_daily").op.pool
        == defs.resolve_assets_def("bss_analytics_weekly").op.pool
        == "bss_api"
    )
