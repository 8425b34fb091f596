"""Readers for the values the APIs send in more than one form.

The tolerant ones return None for null or unreadable input rather than
guessing: a missing number is unknown, not zero. The strict ones, for what
identifies an item or what a statistic rests on, raise ShapeError instead.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any

STATUS_WORDS = {9: "draft", 1: "live", 0: "inactive"}
STATUS_CODES = {word: code for code, word in STATUS_WORDS.items()}


def to_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def to_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", "").rstrip("%")
        if not value:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def to_int(value: Any) -> int | None:
    number = to_float(value)
    if number is None or not number.is_integer() or abs(number) > 2**62:
        return None
    return int(number)


def to_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    if text in {"1", "true", "yes"}:
        return True
    if text in {"0", "false", "no"}:
        return False
    return None


def to_datetime(value: Any) -> datetime | None:
    """ISO timestamps or plain YYYY-MM-DD, as UTC-aware datetimes (naive ones are taken as UTC)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, timezone.utc)
    text = str(value).strip().replace("Z", "+00:00")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}.*", text):
        text = text.replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def to_date(value: Any) -> date | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    moment = to_datetime(value)
    return moment.date() if moment else None


def status_pair(status: Any, status_code: Any = None) -> tuple[int | None, str | None]:
    """(code, word) from either form: lists send the int, results the word plus status_code."""
    code = to_int(status_code)
    if isinstance(status, str) and status.strip().lower() in STATUS_CODES:
        word = status.strip().lower()
        return (code if code is not None else STATUS_CODES[word]), word
    code = code if code is not None else to_int(status)
    return code, STATUS_WORDS.get(code) if code is not None else None


def snake_case(key: str) -> str:
    """'Total Visitors', 'totalVisitors', 'total-visitors' and 'TOTAL_VISITORS' all become 'total_visitors'."""
    key = key.strip()
    if not re.search(r"[a-z]", key) and re.search(r"[A-Z]{2}", key):
        key = key.lower()  # ALL CAPS carries no word boundaries in its case: "LAST7DAYS" is one word
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    key = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", key)
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


class ShapeError(ValueError):
    """An item lacks what identifies it, or has the wrong type for it."""


def required_int(item: dict, key: str) -> int:
    value = to_int(item.get(key))
    if value is None:
        raise ShapeError(f"{key} is missing or not a whole number: {str(item.get(key))[:40]!r}")
    return value


def count(item: dict, key: str) -> int:
    """A count the statistics rest on: absent is 0, but a value that is no whole number (a word, an object,
    beyond int64) is a changed API, never silently 0."""
    raw = item.get(key)
    value = to_int(raw)
    if value is None and raw is not None:
        raise ShapeError(f"{key}: expected a whole number (int64), got {type(raw).__name__} {str(raw)[:40]!r}")
    return value or 0


def required_str(item: dict, key: str) -> str:
    value = to_str(item.get(key))
    if value is None or isinstance(item.get(key), (dict, list)):
        raise ShapeError(f"{key} is missing")
    return value
