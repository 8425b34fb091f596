"""Where the test suite's time goes, from the JUnit reports of whole runs (docs/testing.md's tables).

    .venv/bin/python -m pytest ... --junitxml=run.xml          # `make test` with TEST_ARGS=--junitxml=run.xml
    .venv/bin/python -m benchmarks.suite_time run.xml [--before old.xml] [--write-durations]

Sums each test's seconds (setup, call and teardown) by module and by the kinds of work it started (the `kinds`
property mida_pipeline_tests/kinds.py records: pipeline, dagster, dbt, browser, postgres, process). A report
without kinds (one written before they were recorded) takes each test's kinds from the other report.
`--write-durations` saves the seconds of each xdist group to mida_pipeline_tests/durations.json, the order in
which `make test` hands the groups out (mida_pipeline_tests/scheduling.py).
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mida_pipeline_tests.scheduling import DURATIONS, group_of


@dataclass
class Case:
    nodeid: str
    seconds: float
    kinds: str | None
    outcome: str


def read(path: Path) -> list[Case]:
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        # classname is the dotted module (and class); the name may carry xdist's `@group` suffix.
        parts = case.get("classname", "").split(".")
        path_parts, rest = [], []
        for i, p in enumerate(parts):
            path_parts.append(p)
            if p.startswith("test_"):
                rest = parts[i + 1 :]
                break
        nodeid = "/".join(path_parts) + ".py::" + "::".join([*rest, case.get("name", "").split("@")[0]])
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcome = next((c.tag for c in case if c.tag in {"failure", "error", "skipped"}), "passed")
        cases.append(Case(nodeid, float(case.get("time", 0)), props.get("kinds"), outcome))
    return cases


def label(kinds: str | None) -> str:
    return "+".join(k for k in (kinds or "").split(",") if k) or "in process only"


def table(rows: dict[str, list[Case]], title: str, most: int | None = None) -> str:
    total = sum(c.seconds for cases in rows.values() for c in cases)
    lines = [f"| {title} | tests | seconds | share |", "|---|---:|---:|---:|"]
    ranked = sorted(rows.items(), key=lambda kv: -sum(c.seconds for c in kv[1]))
    for name, cases in ranked[:most]:
        seconds = sum(c.seconds for c in cases)
        lines.append(f"| {name} | {len(cases)} | {seconds:,.0f} | {seconds / total:.0%} |")
    if most and len(ranked) > most:
        rest = [c for _, cases in ranked[most:] for c in cases]
        seconds = sum(c.seconds for c in rest)
        lines.append(f"| {len(ranked) - most} others | {len(rest)} | {seconds:,.0f} | {seconds / total:.0%} |")
    lines.append(f"| **all** | **{sum(len(c) for c in rows.values())}** | **{total:,.0f}** | |")
    return "\n".join(lines)


def summary(cases: list[Case], kinds_from: dict[str, str | None]) -> str:
    by_module: dict[str, list[Case]] = defaultdict(list)
    by_kind: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        by_module[c.nodeid.split("::")[0]].append(c)
        by_kind[label(c.kinds if c.kinds is not None else kinds_from.get(c.nodeid))].append(c)
    outcomes = defaultdict(int)
    for c in cases:
        outcomes[c.outcome] += 1
    head = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
    return f"{head}\n\n{table(by_kind, 'kinds of work started')}\n\n{table(by_module, 'module', most=25)}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--before", type=Path, help="an earlier run's report, summed the same way")
    parser.add_argument("--write-durations", action="store_true", help=f"save each group's seconds to {DURATIONS}")
    args = parser.parse_args()

    cases = read(args.report)
    kinds = {c.nodeid: c.kinds for c in cases}
    if args.before:
        before = read(args.before)
        print(f"## before ({args.before})\n\n{summary(before, kinds)}")
        kinds |= {c.nodeid: c.kinds for c in before if c.kinds is not None and kinds.get(c.nodeid) is None}
    print(f"## {args.report}\n\n{summary(cases, kinds)}")
    if args.write_durations:
        groups: dict[str, float] = defaultdict(float)
        for c in cases:
            groups[group_of(c.nodeid)] += c.seconds
        DURATIONS.write_text(json.dumps({g: round(s, 1) for g, s in sorted(groups.items())}, indent=1) + "\n")
        print(f"wrote {DURATIONS} ({len(groups)} groups)")


if __name__ == "__main__":
    main()
