"""The warehouse BI tools open, and how it is rebuilt without disturbing them.

A BI tool may hold a read-only connection to the published file all day, and
DuckDB will not let a writer open a file another process has open. So nothing
ever writes the published file: the pipeline builds in a private copy and
swaps a finished copy in with one rename. Readers keep the file they opened
(the old inode) until they reconnect, and never see half-built marts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock

from mida_pipeline.lake.catalog import refresh_raw_views


@dataclass(frozen=True)
class Warehouse:
    """The published file and the private build file beside it."""

    published_path: Path
    lake_dir: Path | str  # a folder, or an object-storage URL (lake/storage.py)

    @property
    def build_dir(self) -> Path:
        return self.published_path.parent / ".build"

    @property
    def build_path(self) -> Path:
        return self.build_dir / self.published_path.name

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[Path]:
        """Hold the build lock: one process builds and publishes at a time, others wait their turn."""
        self.build_dir.mkdir(parents=True, exist_ok=True)
        # An OS lock on the file (released by the kernel if the holder is killed), on every platform.
        with FileLock(self.build_dir / "lock"):
            # Only the lock's holder makes these copies: any still here were left by a killed process.
            for leftover in (
                *self.published_path.parent.glob(f".{self.published_path.name}.*.tmp"),
                *self.build_dir.glob(".seed.*.tmp"),
            ):
                leftover.unlink(missing_ok=True)
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
        """Make the build file a whole copy of the published one (none when nothing is published yet)."""
        Path(f"{self.build_path}.wal").unlink(missing_ok=True)
        if not self.published_path.exists():
            self.build_path.unlink(missing_ok=True)
            return
        seed = self.build_dir / f".seed.{uuid.uuid4().hex}.tmp"
        try:
            shutil.copyfile(self.published_path, seed)
            os.replace(seed, self.build_path)  # copied whole before it replaces anything
        finally:
            seed.unlink(missing_ok=True)

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

    def publish(self) -> Path:
        """Swap the build file in as the published file (call while holding `exclusive`)."""
        self.published_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.published_path.with_name(f".{self.published_path.name}.{uuid.uuid4().hex}.tmp")
        try:
            shutil.copyfile(self.build_path, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.published_path)
        finally:
            tmp.unlink(missing_ok=True)
        return self.published_path

    def refresh_and_publish(self) -> Path:
        with self.exclusive():
            self.refresh_raw()
            return self.publish()
