"""Dagster's SQLite event log, with one SQLAlchemy engine per database file, for the command line's runs.

Dagster's own class builds a new engine, and opens a new SQLite connection, each time it asks for a connection: a
day's sync stores about 800 events through about 4,000 of them, and building the engines cost about a tenth of the
sync's CPU (benchmarks/RESULTS.md). This class keeps each file's engine for the life of the storage, and the engine
keeps its connections open between uses (SQLAlchemy's QueuePool, its default for a SQLite file), so a sync opens a
few instead of thousands. A pooled connection holds no transaction and no lock between uses (each use is one
transaction, rolled back on return if not committed), so other processes write the same files as before. The
files are Dagster's: the webserver, the daemon and `dagster dev` read them with Dagster's own class.

It changes two of Dagster's private methods (`_connect`, which every connection goes through, and `has_table`);
mida_pipeline_tests/test_event_log.py fails when an upgrade changes what they rest on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage as DagsterSqliteEventLog
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# The storage settings a dagster.yaml may hold: where one names any, the instance is configured there, not here.
STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")


class SqliteEventLogStorage(DagsterSqliteEventLog):
    """Dagster's SQLite event log storage, each database file's engine built once."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, Engine] = {}  # before Dagster's __init__, which may connect to make the index
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> SqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        # Two threads may both build a shard's first engine; the second one kept is as good as the first.
        engine = self._engines.get(shard)
        if engine is None:
            # One connection is in use at a time under the storage's lock, one more by `has_table`; the overflow is
            # for threads that ask outside the lock, closed when returned.
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=2,
                max_overflow=8,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Dagster's own, but for the engine: the lock, the schema made on a shard's first use, one transaction.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Without the lock, as Dagster's: it is asked while a connection holds it.
        engine = self._engine(INDEX_SHARD_NAME)
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()


def overrides(home: str, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the instance at `home` is given on top of its dagster.yaml (`config`, None when there is none): this
    event log, where the storage is Dagster's default (SQLite files under `home`); nothing where it names its own."""
    if config and any(key in config for key in STORAGE_KEYS):
        return {}
    return {
        "event_log_storage": {
            "module": __name__,
            "class": SqliteEventLogStorage.__name__,
            # Where Dagster's default storage keeps the event log (InstanceRef.config_defaults).
            "config": {"base_dir": os.path.join(home, "history", "runs")},
        }
    }
