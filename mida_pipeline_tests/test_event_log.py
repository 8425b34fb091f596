"""The command line's event log: Dagster's SQLite files, each file's engine built once, read back by Dagster's own."""

from __future__ import annotations

import inspect

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage as DagsterSqliteEventLog

from mida_pipeline import event_log
from mida_pipeline.runner import instance

pytestmark = pytest.mark.dagster


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="numbers")])
def numbers():
    yield dg.Output([1, 2, 3])
    yield dg.AssetCheckResult(passed=True)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return tmp_path


def test_what_the_class_changes_is_still_what_dagster_does_its_own_way():
    """The two methods replaced, with the names, arguments and helpers they rest on: an upgrade that changes them
    fails here, not in a sync."""
    assert list(inspect.signature(DagsterSqliteEventLog._connect).parameters) == ["self", "shard"]
    assert list(inspect.signature(DagsterSqliteEventLog.has_table).parameters) == ["self", "table_name"]
    source = inspect.getsource(DagsterSqliteEventLog._connect)
    for name in ("self._db_lock", "self._initdb(engine)", "self._initialized_dbs", "conn.begin()"):
        assert name in source, name
    storage = event_log.SqliteEventLogStorage.__new__(event_log.SqliteEventLogStorage)
    assert callable(storage.conn_string_for_shard) and callable(storage._initdb)


def test_the_command_lines_instance_keeps_one_engine_per_file_and_dagster_reads_what_it_wrote(home, monkeypatch):
    built, opened, used = [], [], []
    create_engine = event_log.create_engine

    def counted(url, **kwargs):
        engine = create_engine(url, **kwargs)
        built.append(url)
        sa.event.listen(engine, "connect", lambda *_: opened.append(url))
        sa.event.listen(engine, "checkout", lambda *_: used.append(url))
        return engine

    monkeypatch.setattr(event_log, "create_engine", counted)
    with instance() as inst:
        assert isinstance(inst.event_log_storage, event_log.SqliteEventLogStorage)
        for _ in range(2):
            assert dg.materialize([numbers], instance=inst).success
        events = inst.get_records_for_run(inst.get_runs()[0].run_id).records
        # Its connections stay open between uses and hold nothing: Dagster's own class writes the same files
        # meanwhile, as the webserver or the daemon does, and each sees the other's runs.
        with dg.DagsterInstance.from_config(str(home)) as dagster:
            assert type(dagster.event_log_storage) is DagsterSqliteEventLog
            assert dg.materialize([numbers], instance=dagster).success
            theirs = dagster.get_runs()[0].run_id
        assert len(inst.get_runs()) == 3
        assert inst.get_latest_materialization_event(dg.AssetKey("numbers")).run_id == theirs
    assert len(events) > 10
    assert len(built) == len(set(built)) <= 3  # the index and the two runs' files, each once
    # Asked for a connection about fifty times a run, where Dagster's own class opens a new one each time.
    assert len(used) > 80
    assert len(opened) <= 2 * len(built), (len(opened), len(used))

    with dg.DagsterInstance.from_config(str(home)) as dagster:  # as the webserver or the daemon opens it
        assert type(dagster.event_log_storage) is DagsterSqliteEventLog
        assert len(dagster.get_runs()) == 3
        assert dagster.get_latest_materialization_event(dg.AssetKey("numbers")) is not None
        key = dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")
        record = dagster.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        assert record.event.dagster_event.event_specific_data.passed


def test_an_instance_whose_dagster_yaml_names_its_storage_is_left_as_configured(home):
    (home / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {home / 'elsewhere'}\n")
    with instance() as inst:
        assert type(inst.event_log_storage) is DagsterSqliteEventLog
        assert dg.materialize([numbers], instance=inst).success
    assert (home / "elsewhere").is_dir()


def test_other_settings_of_a_dagster_yaml_still_apply(home):
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with instance() as inst:
        assert isinstance(inst.event_log_storage, event_log.SqliteEventLogStorage)
        assert inst.get_settings("telemetry") == {"enabled": False}
