"""Loaded only by the crash tests' `mida-pipeline` processes (this folder goes on their PYTHONPATH).

MIDA_TEST_KILL_AT="<point>:<n>" SIGKILLs the process at the n-th time it reaches <point>; the production
code has no hook for it. A point may name where it acts, `<point>@<place>` (place: lake, build, warehouse for the
published file and its copy, report, memory for a connection to no file, other), and the phase, `models:` before it
for the visits after `dbt build` started: "replace-before@lake:8" is the eighth rename into the lake, whatever the
warehouse did in between; "models:replace-before@warehouse:1" the publish's swap after the models. Counting by place keeps a point at the
same step whichever tables a half-done earlier run left without a partition. In the lake a point may name the table
instead, `<point>@<table>`: "parquet-mid@mida_projects:1" is the company's projects half written, wherever a new table
or a reordered asset puts that write. MIDA_TEST_COUNT_TO=<file> instead counts every point and writes the counts at exit.
Both variables are removed from the environment at once, so the dbt processes the sync starts run unharmed.

Points: parquet-mid (half a Parquet file written), fsync (before an fsync), replace-before / replace-after
(around a rename into place), copy-mid (half a file copied: the published catalog, into a build restored from it), connect (before a
DuckDB connection opens), dbt-started (just after dbt was started).
"""

import atexit
import json
import os
import signal
import threading

_kill = os.environ.pop("MIDA_TEST_KILL_AT", "")
_count_to = os.environ.pop("MIDA_TEST_COUNT_TO", "")
_counts: dict[str, int] = {}
_trace: list[str] = []
_target, _, _nth = _kill.rpartition(":")
_lock = threading.Lock()  # partitions are written from worker threads


_phase = [""]  # "models:" once dbt build has started


def _place(what: object) -> str:
    if isinstance(what, int):  # a file descriptor (fsync)
        try:
            what = os.readlink(f"/proc/self/fd/{what}")
        except OSError:
            return "other"
    where = str(what)
    if not where or where == "()":
        return "memory"
    if where.endswith("/lake"):
        return "lake"
    for marker, place in (
        ("/lake/", "lake"),
        ("/.build", "build"),
        ("warehouse.duckdb", "warehouse"),
        ("report", "report"),
    ):
        if marker in where:
            return place
    return "other"


def _table(what: object) -> str | None:
    """The lake table a path lies in (`<lake>/<table>/...`), if it lies in the lake."""
    if isinstance(what, int):
        try:
            what = os.readlink(f"/proc/self/fd/{what}")
        except OSError:
            return None
    parts = str(what).split("/lake/", 1)
    return parts[1].split("/", 1)[0] or None if len(parts) == 2 else None


def _reach(point: str, what: object = "") -> bool:
    """Count a visit under each of its names; True when this is the visit to die at."""
    names = [point, f"{point}@{_place(what)}"]
    table = _table(what)
    names += [f"{point}@{table}"] if table else []
    names += [_phase[0] + name for name in names] if _phase[0] else []
    with _lock:
        hit = False
        for name in names:
            n = _counts[name] = _counts.get(name, 0) + 1
            hit = hit or (name == _target and n == int(_nth))
        _trace.append(f"{' '.join(f'{name}:{_counts[name]}' for name in names)} {str(what)[-90:]}")
    return hit


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if _kill or _count_to:
    import shutil
    import subprocess

    _replace, _fsync, _copyfile, _popen_init = os.replace, os.fsync, shutil.copyfile, subprocess.Popen.__init__

    def replace(src, dst, *a, **k):
        if _reach("replace-before", dst):
            _die()
        out = _replace(src, dst, *a, **k)
        if _reach("replace-after", dst):
            _die()
        return out

    def fsync(fd):
        if _reach("fsync", fd):
            _die()
        return _fsync(fd)

    def copyfile(src, dst, *a, **k):
        if _reach("copy-mid", dst):
            with open(src, "rb") as fin, open(dst, "wb") as fout:
                fout.write(fin.read(os.path.getsize(src) // 2))
                fout.flush()
                _fsync(fout.fileno())
            _die()
        return _copyfile(src, dst, *a, **k)

    def popen_init(self, args, *a, **k):
        _popen_init(self, args, *a, **k)
        first = args[0] if isinstance(args, (list, tuple)) else str(args).split()[0]
        if os.path.basename(str(first)) == "dbt":
            if _reach("dbt-started", args):
                _die()
            if "build" in args:
                _phase[0] = "models:"

    os.replace, os.fsync, shutil.copyfile, subprocess.Popen.__init__ = replace, fsync, copyfile, popen_init

    # Imported here (only in the processes under test) so that the module attributes the pipeline calls are wrapped.
    import duckdb
    import pyarrow.parquet as pq

    _write_table, _connect = pq.write_table, duckdb.connect

    def write_table(table, where, *a, **k):
        if _reach("parquet-mid", getattr(where, "name", "")):
            import io

            buffer = io.BytesIO()
            _write_table(table, buffer, *a, **k)
            data = buffer.getvalue()
            where.write(data[: len(data) // 2])
            where.flush()
            _fsync(where.fileno())
            _die()
        return _write_table(table, where, *a, **k)

    def connect(*a, **k):
        if _reach("connect", a[0] if a else ""):
            _die()
        return _connect(*a, **k)

    pq.write_table, duckdb.connect = write_table, connect

    if _count_to:
        atexit.register(lambda: open(_count_to, "w").write(json.dumps({"counts": _counts, "trace": _trace}, indent=0)))
