"""A partition is written whole, replaced whole, and refused whole when a type drifts."""

from datetime import date, datetime, timezone

import pyarrow.parquet as pq
import pytest

from mida_pipeline.lake.writer import SchemaDriftError, partition_dir, sweep_temporaries, write_partition

DAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)


def goal(goal_id: str, value=1.0) -> dict:
    return {
        "project_key": "shop",
        "date": DAY,
        "goal_profile_id": goal_id,
        "goal_value": value,
        "captured_at": NOW,
        "raw": "{}",
    }


def test_partition_lands_in_hive_folders(tmp_path):
    written = write_partition(tmp_path, "mida_goals", [goal("1"), goal("2")], day=DAY, project_key="shop")
    assert written.path == tmp_path / "mida_goals" / "project_key=shop" / "date=2026-03-01" / "part.parquet"
    assert pq.read_table(written.path).num_rows == 2


def test_rewriting_a_partition_replaces_it(tmp_path):
    write_partition(tmp_path, "mida_goals", [goal("1"), goal("2")], day=DAY, project_key="shop")
    write_partition(tmp_path, "mida_goals", [goal("3")], day=DAY, project_key="shop")
    folder = tmp_path / "mida_goals" / "project_key=shop" / "date=2026-03-01"
    assert [f.name for f in folder.iterdir()] == ["part.parquet"]
    assert pq.read_table(folder / "part.parquet").column("goal_profile_id").to_pylist() == ["3"]


def test_a_type_change_names_table_and_column_and_writes_nothing(tmp_path):
    write_partition(tmp_path, "mida_goals", [goal("1")], day=DAY, project_key="shop")
    with pytest.raises(SchemaDriftError, match=r"mida_goals\.goal_value: expected double, got str"):
        write_partition(tmp_path, "mida_goals", [goal("1", value="lots")], day=DAY, project_key="shop")
    kept = pq.read_table(partition_dir(tmp_path, "mida_goals", DAY, "shop") / "part.parquet")
    assert kept.column("goal_value").to_pylist() == [1.0]


def test_fields_outside_the_schema_are_not_columns(tmp_path):
    row = goal("1") | {"brand_new_field": 5}
    written = write_partition(tmp_path, "mida_goals", [row], day=DAY, project_key="shop")
    assert "brand_new_field" not in pq.read_schema(written.path).names


def test_empty_partition_is_an_empty_file_with_the_schema(tmp_path):
    written = write_partition(tmp_path, "mida_goals", [], day=DAY, project_key="shop")
    table = pq.read_table(written.path)
    assert table.num_rows == 0 and "goal_key" in table.schema.names


def test_project_tables_need_a_project(tmp_path):
    with pytest.raises(ValueError, match="project_key is required"):
        write_partition(tmp_path, "mida_goals", [], day=DAY)


def test_leftover_temporaries_are_swept(tmp_path):
    folder = partition_dir(tmp_path, "mida_goals", DAY, "shop")
    folder.mkdir(parents=True)
    (folder / ".part.parquet.dead.tmp").write_bytes(b"half")
    assert sweep_temporaries(tmp_path) == 1
    assert not any(folder.iterdir())


def test_a_write_tidies_its_folder_of_temporaries_a_killed_write_left_but_not_of_fresh_ones(tmp_path):
    import os

    folder = partition_dir(tmp_path, "mida_goals", DAY, "shop")
    folder.mkdir(parents=True)
    stale, fresh = folder / ".part.parquet.dead.tmp", folder / ".part.parquet.busy.tmp"
    stale.write_bytes(b"PAR1 half")
    fresh.write_bytes(b"PAR1 another sync is writing this")
    os.utime(stale, (0, 0))  # left long ago by a killed process
    write_partition(tmp_path, "mida_goals", [goal("1")], day=DAY, project_key="shop")
    assert sorted(p.name for p in folder.iterdir()) == [".part.parquet.busy.tmp", "part.parquet"]
