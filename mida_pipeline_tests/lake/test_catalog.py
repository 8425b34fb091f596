"""raw.<table> views read the lake in place, and exist with their columns before any data."""

from datetime import date, datetime, timezone

import duckdb

from mida_pipeline.lake.catalog import refresh_raw_views
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.writer import write_partition

NOW = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)


def test_every_table_has_a_typed_view_on_an_empty_lake(tmp_path):
    con = duckdb.connect()
    refresh_raw_views(con, tmp_path)
    for name, table in TABLES.items():
        assert con.execute(f"SELECT count(*) FROM raw.{name}").fetchone() == (0,)
        assert [c[0] for c in con.execute(f"DESCRIBE raw.{name}").fetchall()] == table.schema.names


def test_views_see_every_partition_with_partition_columns_typed(tmp_path):
    for day in (date(2026, 3, 1), date(2026, 3, 2)):
        for pk in ("123", "shop"):  # a numeric-looking key stays text
            row = {"project_key": pk, "date": day, "event_id": "e1", "captured_at": NOW, "raw": "{}"}
            write_partition(tmp_path, "mida_events", [row], day=day, project_key=pk)
    con = duckdb.connect()
    refresh_raw_views(con, tmp_path)
    rows = con.execute("SELECT project_key, date FROM raw.mida_events ORDER BY ALL").fetchall()
    assert rows == [
        ("123", date(2026, 3, 1)),
        ("123", date(2026, 3, 2)),
        ("shop", date(2026, 3, 1)),
        ("shop", date(2026, 3, 2)),
    ]


def test_views_pick_up_new_partitions_without_a_refresh(tmp_path):
    row = {"date": date(2026, 3, 1), "captured_at": NOW, "raw": "{}", "total_visitors": 5}
    write_partition(tmp_path, "bss_analytics_daily", [row], day=date(2026, 3, 1))
    con = duckdb.connect()
    refresh_raw_views(con, tmp_path)
    write_partition(tmp_path, "bss_analytics_daily", [row | {"date": date(2026, 3, 2)}], day=date(2026, 3, 2))
    assert con.execute("SELECT sum(total_visitors) FROM raw.bss_analytics_daily").fetchone() == (10,)
