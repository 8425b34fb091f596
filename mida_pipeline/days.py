"""Calendar arithmetic for partitions: days in a time zone, Monday weeks, late captures.

Pure functions, so the rules that decide what a partition means are easy to
read and to test on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def today_in(tz: str, now: datetime | None = None) -> date:
    now = now or datetime.now(timezone.utc)
    return now.astimezone(ZoneInfo(tz)).date()


def latest_complete_day(tz: str, now: datetime | None = None) -> date:
    """Yesterday in `tz`: the last day that has closed."""
    return today_in(tz, now) - timedelta(days=1)


def week_start(day: date) -> date:
    """The Monday that starts `day`'s week."""
    return day - timedelta(days=day.weekday())


def latest_complete_week(tz: str, now: datetime | None = None) -> date:
    """The Monday of the last week that has closed in `tz`."""
    return week_start(today_in(tz, now)) - timedelta(days=7)


def days(start: date, end: date) -> Iterator[date]:
    """Every day from start to end, both included."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def is_late_capture(day: date, captured_at: datetime, tz: str) -> bool:
    """A snapshot of `day` is on time when taken on `day` or the day after, in `tz`.

    The daily schedule runs just after a day closes, so a capture on the next
    day is the normal case; anything later is today's state, not the day's.
    """
    return captured_at.astimezone(ZoneInfo(tz)).date() > day + timedelta(days=1)


def local_date(moment: datetime, tz: str) -> date:
    """The calendar day of `moment` in `tz` (naive moments are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(tz)).date()


def utc_offset_hours(day: date, tz: str) -> float:
    """`tz`'s offset from UTC in hours at the start of `day` (local midnight), as the Mida API's `tz` wants it.

    On a day when clocks change the offset differs between the day's start and its end; the API takes one
    number per call, so the offset in force at local midnight, when the day begins, is the one sent.
    """
    start = datetime.combine(day, datetime.min.time(), ZoneInfo(tz))
    offset = start.utcoffset() or timedelta(0)
    return offset.total_seconds() / 3600


def run_window(flags: object | None = None) -> tuple[date, date] | None:
    """The first and last day of a dbt run's window, for the Python models: dbt/macros/run_window.sql, in Python.

    The window is dbt's `--event-time-start` (inclusive) and `--event-time-end` (exclusive), read from the flags of
    the dbt invocation the model runs in (dbt checks them); None when the run names none or is a full refresh.
    """
    if flags is None:
        from dbt.flags import get_flags  # dbt runs a Python model in its own process, beside its flags

        flags = get_flags()
    start, end = getattr(flags, "EVENT_TIME_START", None), getattr(flags, "EVENT_TIME_END", None)
    if start is None or end is None or getattr(flags, "FULL_REFRESH", False):
        return None
    return start.date(), (end - timedelta(microseconds=1)).date()
