"""Day columns are named by one rule (README, "Marts"): the day a row is about ends in `_date`, the day something
happened in `_on`, a period's bounds in `_start`/`_end`, a moment in `_at`; only the raw tables keep `date`."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[2] / "dbt" / "models"
RULE = re.compile(r".+_(date|on|start|end)")
MOMENT = re.compile(r".+_at")


def columns():
    for path in (MODELS / "staging" / "_staging.yml", MODELS / "marts" / "_marts.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            for column in model.get("columns", []):
                yield model["name"], column["name"], column.get("data_type", "")


def test_every_day_and_moment_column_is_named_by_the_rule():
    wrong = []
    for model, column, data_type in columns():
        if column == "date" or (data_type == "date" and not RULE.fullmatch(column)):
            wrong.append(
                f"{model}.{column}: a day ends in _date (what the row is about), _on (something happened),"
                " _start or _end (a period's bounds)"
            )
        elif data_type.startswith("timestamp") and not (column.endswith("_date") or MOMENT.fullmatch(column)):
            wrong.append(f"{model}.{column}: a moment ends in _at")  # a day kept as a midnight timestamp ends in _date
    assert wrong == []


def test_the_rule_sees_every_day_column():
    found = [(m, c) for m, c, t in columns() if t == "date"]
    assert ("fct_experiment_variant_daily", "result_date") in found and len(found) > 20
