"""Partition-window arithmetic: days close in MIDA_TIMEZONE, weeks start on Monday."""

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mida_pipeline import days as cal
from mida_pipeline.extract.bss import period

ZONES = st.sampled_from(
    ["UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
)
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)))
def test_week_start_is_the_monday_on_or_before(day):
    monday = cal.week_start(day)
    assert monday.weekday() == 0 and 0 <= (day - monday).days < 7


@given(MOMENTS, ZONES)
def test_latest_complete_day_is_yesterday_in_the_zone(now, tz):
    latest = cal.latest_complete_day(tz, now)
    assert latest == cal.local_date(now, tz) - timedelta(days=1)


@given(MOMENTS, ZONES)
def test_latest_complete_week_has_ended(now, tz):
    monday = cal.latest_complete_week(tz, now)
    assert monday.weekday() == 0
    assert monday + timedelta(days=6) < cal.today_in(tz, now) <= monday + timedelta(days=13)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)), st.integers(0, 400))
def test_days_counts_both_ends(start, length):
    listed = list(cal.days(start, start + timedelta(days=length)))
    assert len(listed) == length + 1 and listed[0] == start and listed[-1] == start + timedelta(days=length)


def test_a_capture_the_morning_after_is_on_time_and_two_days_later_is_late():
    day = date(2026, 3, 1)
    assert not cal.is_late_capture(day, datetime(2026, 3, 2, 5, tzinfo=timezone.utc), "UTC")
    assert cal.is_late_capture(day, datetime(2026, 3, 3, 0, 1, tzinfo=timezone.utc), "UTC")


def test_late_capture_is_judged_in_the_zone():
    # 2026-03-03 01:00 UTC is still March 2 in Los Angeles: on time there, late in UTC.
    moment = datetime(2026, 3, 3, 1, tzinfo=timezone.utc)
    assert cal.is_late_capture(date(2026, 3, 1), moment, "UTC")
    assert not cal.is_late_capture(date(2026, 3, 1), moment, "America/Los_Angeles")


LOCAL_TIMES = st.times()


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)), ZONES, st.integers(0, 1), LOCAL_TIMES)
def test_a_capture_on_the_day_or_the_next_day_in_the_zone_is_on_time(day, tz, later, clock):
    moment = datetime.combine(day + timedelta(days=later), clock, ZoneInfo(tz)).astimezone(timezone.utc)
    assert not cal.is_late_capture(day, moment, tz)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)), ZONES, st.integers(2, 4000), LOCAL_TIMES)
def test_a_capture_two_or_more_days_after_in_the_zone_is_late(day, tz, later, clock):
    moment = datetime.combine(day + timedelta(days=later), clock, ZoneInfo(tz)).astimezone(timezone.utc)
    assert cal.is_late_capture(day, moment, tz)


@given(MOMENTS, ZONES)
def test_the_latest_complete_day_synced_now_is_never_a_late_capture(now, tz):
    assert not cal.is_late_capture(cal.latest_complete_day(tz, now), now, tz)


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1)), ZONES)
@settings(max_examples=40, deadline=None)
def test_the_latest_complete_day_and_week_agree_with_dagsters_partitions(naive_now, tz):
    now = naive_now.replace(tzinfo=timezone.utc)
    start = (now - timedelta(days=30)).date()
    daily = dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone=tz)
    weekly = dg.WeeklyPartitionsDefinition(start_date=cal.week_start(start).isoformat(), timezone=tz, day_offset=1)
    assert daily.get_partition_keys(current_time=now)[-1] == cal.latest_complete_day(tz, now).isoformat()
    assert weekly.get_partition_keys(current_time=now)[-1] == cal.latest_complete_week(tz, now).isoformat()


@given(MOMENTS, ZONES)
def test_local_date_reads_naive_moments_as_utc(now, tz):
    naive = now.replace(tzinfo=None)
    assert cal.local_date(naive, tz) == cal.local_date(now, tz) == now.astimezone(ZoneInfo(tz)).date()


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)))
def test_a_weekly_partition_covers_monday_to_sunday_of_its_week(day):
    start, end = period("weekly", cal.week_start(day))
    assert start.weekday() == 0 and end.weekday() == 6 and start <= day <= end and (end - start).days == 6
    assert period("daily", day) == (day, day)


@pytest.mark.parametrize(
    ("start", "end", "full_refresh", "expected"),
    [
        # dbt's --event-time-end is exclusive: a window to midnight of the 5th ends with the 4th.
        (datetime(2026, 3, 2), datetime(2026, 3, 5), False, (date(2026, 3, 2), date(2026, 3, 4))),
        (datetime(2026, 3, 2), datetime(2026, 3, 2, 12), False, (date(2026, 3, 2), date(2026, 3, 2))),
        (None, None, False, None),  # a plain `dbt build`
        (datetime(2026, 3, 2), datetime(2026, 3, 5), True, None),  # --full-refresh rebuilds every day
    ],
)
def test_the_window_a_python_model_reads_is_dbts_event_time_flags(start, end, full_refresh, expected):
    flags = SimpleNamespace(EVENT_TIME_START=start, EVENT_TIME_END=end, FULL_REFRESH=full_refresh)
    assert cal.run_window(flags) == expected


def test_a_command_without_the_flags_has_no_window():
    assert cal.run_window(SimpleNamespace()) is None  # `dbt test` takes no --event-time-* flags
