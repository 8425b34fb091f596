"""Properties of the tolerant parsers: every form the APIs may send reads as the one value it stands for."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from mida_pipeline.sources import parse_metrics
from mida_pipeline.sources import records as r
from mida_pipeline.sources import result_records as rr
from mida_pipeline.sources.bss import COUNTS
from mida_pipeline.sources.coerce import snake_case, to_date, to_datetime, to_float, to_int, to_str

PROPS = settings(max_examples=150, deadline=None)  # per test, so no other module's settings change

# Words are two letters or more, then maybe digits: single letters ("aBC") or digit-led words ("A0A") are
# ambiguous between styles by nature, and metric names are not made of them.
words = st.lists(st.from_regex(r"[a-z]{2,7}[0-9]{0,2}", fullmatch=True), min_size=1, max_size=4)


def styles(parts: list[str]) -> dict[str, str]:
    return {
        "snake": "_".join(parts),
        "camel": parts[0] + "".join(p.capitalize() for p in parts[1:]),
        "pascal": "".join(p.capitalize() for p in parts),
        "title": " ".join(p.capitalize() for p in parts),
        "upper": "_".join(parts).upper(),
        "kebab": "-".join(parts),
        "padded": f"  {' '.join(parts)} ",
    }


@PROPS
@given(words)
def test_every_key_style_normalises_to_the_same_snake_case(parts):
    expected = "_".join(parts)
    assert {name: snake_case(key) for name, key in styles(parts).items()} == dict.fromkeys(styles(parts), expected)


@PROPS
@given(st.text(max_size=40))
def test_snake_case_is_idempotent_and_plain(text):
    once = snake_case(text)
    assert snake_case(once) == once
    assert re.fullmatch(r"([a-z0-9]+(_[a-z0-9]+)*)?", once)


whole = st.integers(min_value=-(2**52), max_value=2**52)


@PROPS
@given(whole)
def test_whole_numbers_read_the_same_as_numbers_strings_and_grouped_strings(n):
    forms = [n, str(n), f"{n:,}", float(n), f" {n} ", f"{n}.0"]
    assert [to_int(f) for f in forms] == [n] * len(forms)
    assert to_float(str(n)) == float(n)


@PROPS
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_survive_a_round_trip_through_text(x):
    assert to_float(repr(x)) == x and to_float(x) == x


@PROPS
@given(
    st.one_of(
        st.booleans(),
        st.none(),
        st.just(""),
        st.just("n/a"),
        st.just("NaN"),
        st.just("inf"),
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v)),
        st.text(alphabet="abcxyz ", min_size=1, max_size=8),
    )
)
def test_what_is_not_a_finite_number_is_null_never_zero(value):
    assert to_float(value) is None and to_int(value) is None


@PROPS
@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not float(v).is_integer()))
def test_a_fraction_is_no_whole_number(x):
    assert to_int(x) is None and to_int(repr(x)) is None


counts = st.fixed_dictionaries({name: st.integers(0, 10**9) for name in COUNTS[:8]})
sources = st.fixed_dictionaries({k: st.integers(0, 10**6) for k in ("organic", "paid", "referral", "direct")})
style_names = st.sampled_from(["snake", "camel", "title", "pascal", "upper"])


def restyle(value, style: str, as_text: bool):
    if isinstance(value, dict):
        return {styles(k.split("_"))[style]: restyle(v, style, as_text) for k, v in value.items()}
    return str(value) if as_text else value


@PROPS
@given(
    counts,
    sources,
    st.floats(0, 1e7, allow_nan=False).map(lambda v: round(v, 2)),
    style_names,
    st.booleans(),
    st.booleans(),
)
def test_bss_metrics_read_the_same_in_every_key_style_layout_and_number_form(
    base, traffic, revenue, style, as_text, top
):
    body = {**base, "revenue": revenue, "currency": "EUR", "traffic_sources": traffic}
    sent = restyle(body, style, as_text)
    metrics, stated = parse_metrics(sent if top else {"data": sent})
    assert stated is None
    assert {k: metrics[k] for k in base} == base
    assert {k: metrics[f"traffic_sources_{k}"] for k in traffic} == traffic
    assert metrics["revenue"] == revenue and metrics["currency"] == "EUR"
    assert metrics["rage_clicks"] is None and metrics["devices_mobile"] is None  # missing is null, not zero


@PROPS
@given(st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z ]{0,12}", fullmatch=True), st.integers(), max_size=5))
def test_unknown_bss_keys_are_kept_under_their_snake_case_name(extra):
    metrics, _ = parse_metrics({"data": {"unknownGroup": extra}})
    for key in extra:
        name = snake_case(key)
        if name:
            assert f"unknown_group_{name}" in metrics


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
moments = st.times().map(lambda t: t.replace(microsecond=0))


@PROPS
@given(days, moments)
def test_dates_and_timestamps_in_every_form_read_as_one_utc_moment(day, at):
    moment = datetime.combine(day, at, timezone.utc)
    forms = [
        moment.isoformat(),
        moment.isoformat().replace("+00:00", "Z"),
        moment.strftime("%Y-%m-%d %H:%M:%S"),
        moment.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat(),
        moment.timestamp(),
        moment.timestamp() * 1000,
    ]
    assert [to_datetime(f) for f in forms] == [moment] * len(forms)
    assert to_date(day.isoformat()) == day
    assert to_datetime(day.isoformat()) == datetime.combine(day, time(0), timezone.utc)
    assert to_date(moment.isoformat().replace("+00:00", "Z")) == day


@PROPS
@given(
    st.integers(0, 10**9),
    st.sampled_from([int, str, float]),
    st.sampled_from([(1, "live"), (0, "inactive"), (9, "draft")]),
    st.booleans(),
    days,
)
def test_experiments_read_the_same_whatever_form_ids_statuses_and_dates_take(test_id, id_type, status, as_word, day):
    code, word = status
    item = {"test_id": id_type(test_id), "status": word if as_word else code, "created_at": day.isoformat()}
    if as_word:
        item["status_code"] = str(code)
    e = r.parse_experiment(item)
    assert (e.test_id, e.status_code, e.status, e.created_at.date()) == (test_id, code, word, day)


@PROPS
@given(
    st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 10**7)), min_size=2, max_size=5),
    st.booleans(),
    st.booleans(),
)
def test_result_variants_read_the_same_with_int_or_string_ids_and_counts(numbers, ids_as_int, counts_as_text):
    shown = str if counts_as_text else (lambda v: v)
    variants = [
        {"variant_id": k if ids_as_int else str(k), "visitors": shown(v), "conversions": shown(c)}
        for k, (v, c) in enumerate(numbers)
    ]
    result = rr.parse_result({"test_id": "7", "status": "live", "status_code": 1, "variants": variants})
    assert [(v.variant_id, v.visitors, v.conversions) for v in result.variants] == [
        (str(k), v, c) for k, (v, c) in enumerate(numbers)
    ]
    assert [v.is_control for v in result.variants] == [k == 0 for k in range(len(numbers))]
    assert all(to_str(v.raw["variant_id"]) == v.variant_id for v in result.variants)
