"""Each lake table is declared once; the Arrow schema, the raw views, the UI's column schema and dbt's source YAML
all derive from that declaration, and a test fails the moment one of them disagrees."""

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import yaml

from mida_pipeline.defs.metadata import column_schema
from mida_pipeline.extract import rows
from mida_pipeline.lake.dbt_sources import render
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.table import sql_type
from mida_pipeline.sources.records import parse_experiment_detail
from mida_pipeline.sources.result_records import parse_result

SOURCES_YML = Path(__file__).resolve().parents[2] / "dbt" / "models" / "staging" / "_sources.yml"


def _dbt_tables() -> dict[str, dict]:
    doc = yaml.safe_load(SOURCES_YML.read_text())
    (raw,) = [s for s in doc["sources"] if s["name"] == "raw"]
    return {t["name"]: t for t in raw["tables"]}


def test_the_dbt_source_file_is_the_one_the_declarations_write():
    assert SOURCES_YML.read_text() == render(), "run `make dbt-sources` after changing lake/schemas.py"


def test_dbt_declares_every_lake_table_and_no_other():
    assert set(_dbt_tables()) == set(TABLES)


def test_dbt_source_columns_equal_the_declaration():
    for name, table in _dbt_tables().items():
        declared = [(c.name, sql_type(c.type).lower(), c.description) for c in TABLES[name].all_columns]
        in_yaml = [(c["name"], c.get("data_type"), c.get("description")) for c in table["columns"]]
        assert in_yaml == declared, name


def test_every_key_column_is_a_column_and_every_column_is_described():
    for table in TABLES.values():
        names = [c.name for c in table.all_columns]
        assert len(names) == len(set(names)), table.name
        assert set(table.key) <= set(names), table.name
        assert all(c.description for c in table.all_columns), table.name
        assert isinstance(table.schema, pa.Schema) and table.schema.names == names


def test_the_ui_column_schema_is_the_declaration():
    for name, table in TABLES.items():
        shown = [(c.name, c.type, c.description) for c in column_schema(name).columns]
        assert shown == [(c.name, sql_type(c.type).lower(), c.description) for c in table.all_columns]


def test_control_is_one_rule_for_variants_and_results():
    """The API's own flag wins in both tables; variant '0' is control only when the API sends no flag."""
    detail = parse_experiment_detail(
        {"test_id": 1, "variants": [{"variant_id": 0}, {"variant_id": 1, "is_control": True}]}
    )
    result = parse_result(
        {"test_id": 1, "variants": [{"variant_id": "0", "visitors": 1}, {"variant_id": "1", "is_control": 1}]}
    )
    day, now = date(2026, 1, 1), datetime(2026, 1, 2)
    variants = rows.make_rows(
        "mida_experiment_variants", rows.variant_items(detail), day=day, captured_at=now, project_key="p"
    )
    goal = rows.GoalOfResult("g", "G", "pageview", True)
    results = rows.make_rows(
        "mida_experiment_results",
        rows.result_items(result, window="day", goal=goal),
        day=day,
        captured_at=now,
        project_key="p",
    )
    assert [r["is_control"] for r in variants] == [r["is_control"] for r in results] == [True, True]


def test_dbt_checks_each_tables_declared_key_is_unique():
    for name, table in _dbt_tables().items():
        (test,) = [t["unique_combination"] for t in table["data_tests"] if "unique_combination" in t]
        assert test["name"] == f"{name}_key_unique"
        assert [c.strip('"') for c in test["arguments"]["columns"]] == list(TABLES[name].key), name
