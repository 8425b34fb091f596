"""raw.<table> views read the lake in place, and exist with their columns before any data."""

import shutil
from datetime import date, datetime, timezone

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from mida_pipeline.lake.catalog import layouts, refresh_raw_views
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.writer import LAYOUTS_DIR, layout_mark, to_arrow, write_partition

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


def _view_sql(con, name: str) -> str:
    return con.execute("SELECT sql FROM duckdb_views() WHERE schema_name = 'raw' AND view_name = ?", [name]).fetchone()[
        0
    ]


def _event(day: date) -> dict:
    return {"project_key": "shop", "date": day, "event_id": "e1", "captured_at": NOW, "raw": "{}"}


def test_a_table_in_one_layout_is_read_without_lining_up_every_file(tmp_path):
    """Reconciling the files' columns (`union_by_name`) opens every footer on every query: seconds at a year."""
    for day in (date(2026, 3, 1), date(2026, 3, 2)):
        write_partition(tmp_path, "mida_events", [_event(day)], day=day, project_key="shop")
    # The writer made the table, so it knows every file's layout: no footer is read to find out.
    assert (tmp_path / "mida_events" / LAYOUTS_DIR / "complete").exists()
    assert layouts(TABLES["mida_events"], tmp_path) == {layout_mark(TABLES["mida_events"].schema)}
    con = duckdb.connect()
    refresh_raw_views(con, tmp_path)
    assert "union_by_name" not in _view_sql(con, "mida_events")
    assert con.execute("SELECT count(*) FROM raw.mida_events").fetchone() == (2,)


def _older_layout(table: str, rows: list[dict], dropped: str) -> pa.Table:
    """The rows as a pipeline that did not have the column `dropped` yet would have written them."""
    full = to_arrow(table, rows)
    return full.drop_columns([dropped])


def test_files_written_before_a_column_was_added_are_read_with_it_null(tmp_path):
    old_day, new_day = date(2026, 3, 1), date(2026, 3, 2)
    write_partition(
        tmp_path, "mida_events", _older_layout("mida_events", [_event(old_day)], "raw"), day=old_day, project_key="shop"
    )
    write_partition(tmp_path, "mida_events", [_event(new_day)], day=new_day, project_key="shop")
    assert len(layouts(TABLES["mida_events"], tmp_path)) == 2
    con = duckdb.connect()
    refresh_raw_views(con, tmp_path)
    assert "union_by_name = true" in _view_sql(con, "mida_events")
    assert con.execute("SELECT date, raw FROM raw.mida_events ORDER BY date").fetchall() == [
        (old_day, None),
        (new_day, "{}"),
    ]


def test_a_lake_written_before_layouts_were_recorded_is_surveyed_once(tmp_path):
    old_day, new_day = date(2026, 3, 1), date(2026, 3, 2)
    write_partition(
        tmp_path, "mida_events", _older_layout("mida_events", [_event(old_day)], "raw"), day=old_day, project_key="shop"
    )
    write_partition(tmp_path, "mida_events", [_event(new_day)], day=new_day, project_key="shop")
    shutil.rmtree(tmp_path / "mida_events" / LAYOUTS_DIR)  # as an older version of the pipeline left it
    con = duckdb.connect()
    refresh_raw_views(con, tmp_path)
    assert "union_by_name = true" in _view_sql(con, "mida_events")
    assert con.execute("SELECT count(raw) FROM raw.mida_events").fetchone() == (1,)
    # What the survey found is recorded: the footers are not read again.
    assert len(list((tmp_path / "mida_events" / LAYOUTS_DIR).iterdir())) == 3  # two layouts and "complete"


def test_every_table_read_back_from_its_file_has_the_declared_layout(tmp_path):
    """The survey of an older lake names a file's layout from its footer: it must agree with what the writer records."""
    for name, table in TABLES.items():
        written = write_partition(
            tmp_path, name, [], day=date(2026, 3, 1), project_key="shop" if table.has_project else None
        )
        assert layout_mark(pq.read_schema(written.path)) == layout_mark(table.schema), name
