"""Partition-window arithmetic: days close in MIDA_TIMEZONE, weeks start on Monday."""

from datetime import date, datetime, timedelta, timezone

from hypothesis import given, strategies as st

from mida_pipeline import days as cal

ZONES = st.sampled_from(["UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
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
