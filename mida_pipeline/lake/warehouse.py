"""The warehouse BI tools open, and how it is rebuilt without disturbing them.

A BI tool may hold a read-only connection to the published file all day, and
DuckDB will not let a writer open a file another process has open. So nothing
ever writes the published file: the pipeline builds in a private file and
swaps a finished catalog in with one rename. Readers keep the file they opened
(the old inode) until they reconnect, and never see half-built marts.

The published catalog holds every relation of the build file, but not every row:
the tables that grow by the day are published as Parquet files beside it, one a
day, and it holds views over them (lake/generations.py), so a publish writes
what the run changed instead of copying the history.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
from filelock import FileLock

from mida_pipeline.lake import generations
from mida_pipeline.lake.catalog import refresh_raw_views


@dataclass(frozen=True)
class Warehouse:
    """The published catalog, the private build file beside it, and the published facts folder."""

    published_path: Path
    lake_dir: Path | str  # a folder, or an object-storage URL (lake/storage.py)

    @property
    def build_dir(self) -> Path:
        return self.published_path.parent / ".build"

    @property
    def build_path(self) -> Path:
        return self.build_dir / self.published_path.name

    @property
    def facts_dir(self) -> Path:
        return generations.facts_dir(self.published_path)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[Path]:
        """Hold the build lock: one process builds and publishes at a time, others wait their turn."""
        self.build_dir.mkdir(parents=True, exist_ok=True)
        # An OS lock on the file (released by the kernel if the holder is killed), on every platform.
        with FileLock(self.build_dir / "lock"):
            # Only the lock's holder makes these copies: any still here were left by a killed process.
            for leftover in (*self.facts_dir.glob(".catalog.*.tmp"), *self.build_dir.glob(".seed.*.tmp")):
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            yield self.build_path

    @property
    def unfinished_marker(self) -> Path:
        """Present while dbt rebuilds the build file; left behind only by a build that died midway."""
        return self.build_dir / "build-unfinished"

    def refresh_raw(self) -> None:
        """Point raw.* at the lake as it is now (call while holding `exclusive`)."""
        if self.unfinished_marker.exists():
            # A dbt build died midway (its sync was killed: we hold the lock now). Its half-built marts must never
            # be published: wait until any orphaned dbt lets go of the file, then start again from the published one.
            self._connect_build().close()
            self.restore_published()
            self.unfinished_marker.unlink(missing_ok=True)
        elif not self.build_path.exists() and self.published_path.exists():
            # A lost build file (a new machine, a cleaned folder) must not publish a warehouse without the marts.
            self.restore_published()
        with contextlib.closing(self._connect_build()) as con:
            refresh_raw_views(con, self.lake_dir)
            con.execute("CHECKPOINT")

    def restore_published(self) -> None:
        """Make the build file hold what the published catalog shows (none when nothing is published yet). This
        reads the history, so it runs only when a build failed or its file was lost."""
        Path(f"{self.build_path}.wal").unlink(missing_ok=True)
        if not self.published_path.exists():
            self.build_path.unlink(missing_ok=True)
            return
        self._whole_copy(self.build_path, self.build_dir / f".seed.{uuid.uuid4().hex}.tmp")

    def export(self, target: Path) -> Path:
        """A standalone copy of the published warehouse at `target`: every table inside it, those published as files
        too, for a machine that cannot reach the files (MotherDuck, a colleague's laptop)."""
        if not self.published_path.exists():
            raise FileNotFoundError(f"nothing is published at {self.published_path} yet: run a sync first")
        target.parent.mkdir(parents=True, exist_ok=True)
        return self._whole_copy(target, target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp")

    def _whole_copy(self, target: Path, scratch: Path) -> Path:
        """Copy the published catalog, make its views over the published facts tables again, then rename the copy
        to `target`, so `target` is whole or as it was."""
        # Under the published file's name in a folder of its own: the views name their database after the file.
        copy = scratch / self.published_path.name
        try:
            scratch.mkdir()
            shutil.copyfile(self.published_path, copy)
            with contextlib.closing(duckdb.connect(str(copy))) as con:
                generations.materialise(con, generations.views_over(con, copy.stem, self.facts_dir))
                con.execute("CHECKPOINT")
            os.replace(copy, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return target

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[None]:
        """Mark the build file as being rebuilt (call while holding `exclusive`); a failure restores the published one."""
        self.unfinished_marker.touch()
        try:
            yield
        except BaseException:
            self.restore_published()
            raise
        finally:
            # After a failure the build file is a whole copy again; after success it is whole and new.
            self.unfinished_marker.unlink(missing_ok=True)

    def _connect_build(self, wait: float = 600.0) -> duckdb.DuckDBPyConnection:
        """Open the build file, waiting while another process holds DuckDB's lock on it.

        The file lock above orders our own processes; a `dbt build` whose sync was killed keeps running
        without it, and holds the file until it finishes. Its result is discarded by the next build anyway.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                return duckdb.connect(str(self.build_path))
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def drop_build_leftovers(self) -> None:
        """Drop the staging tables an incremental dbt model leaves in the build file (`main.*__dbt_tmp`), so the
        published warehouse holds the marts only (call while holding `exclusive`)."""
        with contextlib.closing(self._connect_build()) as con:
            leftovers = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE contains(table_name, '__dbt_tmp')"
            ).fetchall()
            for schema, name in leftovers:
                con.execute(f'DROP TABLE IF EXISTS "{schema}"."{name}"')
            if leftovers:
                con.execute("CHECKPOINT")

    def publish(
        self,
        growing: Mapping[tuple[str, str], str] | None = None,
        changed_from: Mapping[tuple[str, str], date] | None = None,
    ) -> Path:
        """Publish the build file as a new catalog and generation of facts (call while holding `exclusive`).

        `growing`: the tables that grow by the day, (schema, table) -> day column; None keeps the published
        generation's. `changed_from`: the first day the build may have changed in each; the days before it are
        linked from the published generation. None (or a table left out) rewrites every day.
        """
        facts = self.facts_dir
        facts.mkdir(parents=True, exist_ok=True)
        # Written under the published file's name, so its views bind to the database name readers will see.
        staging = facts / f".catalog.{uuid.uuid4().hex}.tmp"
        catalog = staging / self.published_path.name
        try:
            staging.mkdir()
            with contextlib.closing(duckdb.connect(str(catalog))) as con:
                previous = self._published_generation(con)
                if growing is None:
                    growing = generations.day_columns(previous) if previous else {}
                con.execute(f"ATTACH '{self.build_path}' AS build (READ_ONLY)")
                built = set(
                    con.execute(
                        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'build'"
                    ).fetchall()
                )
                generation = generations.new_generation(facts)
                folders = generations.write_generation(
                    con, "build", {k: v for k, v in growing.items() if k in built}, previous, changed_from, generation
                )
                self._write_catalog(con, catalog.stem, folders)
            with open(catalog, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(catalog, self.published_path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        generations.collect(facts, current=generation, previous=previous)
        return self.published_path

    def _published_generation(self, con: duckdb.DuckDBPyConnection) -> Path | None:
        if not self.published_path.exists():
            return None
        try:
            con.execute(f"ATTACH '{self.published_path}' AS published (READ_ONLY)")
        except duckdb.IOException:
            # A tool holds the published file open for writing (against the README's advice): its generation cannot
            # be read, so this publish writes every day again rather than fail.
            return None
        try:
            return next(iter(set(generations.views_over(con, "published", self.facts_dir).values())), None)
        finally:
            con.execute("DETACH published")

    @staticmethod
    def _write_catalog(con: duckdb.DuckDBPyConnection, database: str, folders: Mapping[tuple[str, str], Path]) -> None:
        """Every schema, table and view of the attached build, in the connection's own database: the tables that
        grow by the day as views over their folders, the others with their rows."""
        con.execute(f'COPY FROM DATABASE build TO "{database}" (SCHEMA)')
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'build'"
        ).fetchall():
            if (schema, table) in folders:
                view = generations.view_sql(con, "build", schema, table, folders[(schema, table)])
                con.execute(f'DROP TABLE "{schema}"."{table}"')
                con.execute(view)
            else:
                con.execute(f'INSERT INTO "{schema}"."{table}" SELECT * FROM build."{schema}"."{table}"')
        con.execute("DETACH build")
        con.execute("CHECKPOINT")

    def refresh_and_publish(self) -> Path:
        """Point raw.* at the lake and publish: the tables that grow by the day are the published generation's, every
        day of them written again (rare: a raw write publishes only when it gives a table its first partition)."""
        with self.exclusive():
            self.refresh_raw()
            return self.publish()
