"""The lake's file count: what listing a table's files costs a raw view's reader at an agency's size.

The lake holds one file per table, project and day (`<table>/project_key=P/date=D/part.parquet`): a year of 200
projects is 73,000 files a table. Every query of a raw view lists the table's files before DuckDB prunes them by
the partition values, so a day's read pays for the whole year's listing. Measured here in one run on one local lake:

- a day, a week and the whole table read through the raw view as the pipeline creates it (lake/catalog.py);
- the same day through the view as it was (`*.parquet`, every folder listed);
- the same day read by its own folders (`project_key=*/date=D/part.parquet`): what a read that names its days
  costs, the floor a layout change or a windowed read could reach.

With `--object-storage`, the same reads against the same files put into a bucket of an S3-compatible server on
loopback (moto's server mode, as the tests use), read through the fsspec filesystem the pipeline registers; each
object is one PUT, so keep that size modest (`--projects 20` is 7,300 objects). Each read there is listed with
the S3 requests it made (counted from the loopback server's request log).

The lake is made by hard-linking the real partition files of `--from` (a history benchmark's lake) into every
project's every day, so the files are the writer's and the disk holds one copy of each.

`python -m benchmarks.lake_listing --from /tmp/mida-history/history-365/lake --projects 200 --days 365`
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb

from mida_pipeline.lake import catalog
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.writer import LAYOUTS_DIR, PART_FILE

TABLE = "mida_experiment_results"


def build(source_lake: Path, lake: Path, projects: int, days: int, last: date) -> int:
    """`projects` x `days` partitions of TABLE, each a hard link to a file of the source lake (taken in turn: an
    inode holds at most 65,000 links); returns the count."""
    sources = sorted((source_lake / TABLE).rglob(PART_FILE))
    root = lake / TABLE
    shutil.copytree(source_lake / TABLE / LAYOUTS_DIR, root / LAYOUTS_DIR)
    for p in range(projects):
        for d in range(days):
            folder = root / f"project_key=shop-{p:03d}" / f"date={last - timedelta(days=d)}"
            folder.mkdir(parents=True)
            os.link(sources[(p * days + d) % len(sources)], folder / PART_FILE)
    return projects * days


def upload(lake: Path, url: str) -> None:
    """Every file of the local lake's table, as one object each under `url` (layouts are not recorded remotely)."""
    from mida_pipeline.lake import storage

    root = lake / TABLE
    for path in root.rglob(PART_FILE):
        storage.put_whole(storage.join(url, TABLE, str(path.relative_to(root))), path.read_bytes())


class Requests(logging.Handler):
    """The S3 requests the loopback server answered, by kind (a listing, or an object's HEAD, GET or PUT), read from
    its request log."""

    LINE = re.compile(r"(GET|HEAD|PUT|POST|DELETE) (/\S*) HTTP")  # the log colours some lines: no quote before

    def __init__(self):
        super().__init__()
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if match := self.LINE.search(record.getMessage()):
            method, path = match.groups()
            self.counts["list" if method == "GET" and "list-type" in path else f"{method} object"] += 1

    def since(self, before: Counter[str]) -> str:
        return ", ".join(f"{kind} {n:,}" for kind, n in sorted((self.counts - before).items()))


REQUESTS = Requests()


@contextlib.contextmanager
def s3_bucket():
    """A bucket on a loopback S3 server, with the AWS variables pointing at it; yields the lake's URL. The server's
    requests are counted in REQUESTS."""
    from moto.server import ThreadedMotoServer

    server_log = logging.getLogger("werkzeug")
    server_log.setLevel(logging.INFO)
    server_log.propagate = False
    server_log.addHandler(REQUESTS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(dict(zip(names, ("bench", "bench", "us-east-1", f"http://{host}:{port}"), strict=True)))
    try:
        import s3fs

        s3fs.S3FileSystem(skip_instance_cache=True).mkdir("lake")
        yield "s3://lake/listing"
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()


def best_of(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> tuple[float, int, str]:
    """The best time of `repeat` reads, the rows, and the S3 requests of the first read (on a local lake: none; the
    reads after it find the files' bytes in DuckDB's cache, not their listings and sizes)."""
    best, rows, requests = float("inf"), 0, None
    for _ in range(repeat):
        before = Counter(REQUESTS.counts)
        started = time.perf_counter()
        rows = con.execute(sql).fetchone()[0]
        best = min(best, time.perf_counter() - started)
        requests = REQUESTS.since(before) if requests is None else requests
    return best, rows, requests


def measure(lake: Path | str, last: date, repeat: int) -> list[tuple[str, float, int, str]]:
    from mida_pipeline.lake import storage

    table = TABLES[TABLE]
    view = catalog.view_sql(table, lake)
    before = view.replace(f"/date=*/{PART_FILE}", "/date=*/*.parquet")
    own = view.replace("/date=*/", f"/date={last}/")
    week = f"date BETWEEN DATE '{last - timedelta(days=6)}' AND DATE '{last}'"
    files = storage.join(str(lake), TABLE) + f"/project_key=*/date=*/{PART_FILE}"
    with duckdb.connect() as con:
        storage.register(con, str(lake))
        reads = [
            ("a day, through the raw view", f"SELECT count(*) FROM ({view}) WHERE date = DATE '{last}'"),
            (
                "a day, through the view as it was (*.parquet)",
                f"SELECT count(*) FROM ({before}) WHERE date = DATE '{last}'",
            ),
            ("a day, by its own folders", f"SELECT count(*) FROM ({own})"),
            ("a week, through the raw view", f"SELECT count(*) FROM ({view}) WHERE {week}"),
            (
                "the listing alone (glob of the raw view's files)",
                f"SELECT count(*) FROM glob('{files}')",
            ),
            ("the whole table, through the raw view", f"SELECT count(*) FROM ({view})"),
        ]
        return [(label, *best_of(con, sql, 1 if "whole" in label else repeat)) for label, sql in reads]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, required=True, help="a lake holding the table")
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3, help="best of (default 3)")
    parser.add_argument("--workdir", type=Path, help="where the lake is made (default: a temporary folder)")
    parser.add_argument("--object-storage", action="store_true", help="also read it from a loopback S3 bucket")
    args = parser.parse_args(argv)
    last = date(2026, 12, 5)
    work = Path(tempfile.mkdtemp(prefix="mida-listing-", dir=args.workdir))
    try:
        started = time.perf_counter()
        files = build(args.source, work / "lake", args.projects, args.days, last)
        print(
            f"{files:,} files of {TABLE} ({args.projects} projects x {args.days} days) in {time.perf_counter() - started:.0f} s"
        )
        print("| read | seconds | rows |")
        print("|---|---:|---:|")
        for label, seconds, rows, _ in measure(work / "lake", last, args.repeat):
            print(f"| {label} | {seconds:.3f} | {rows:,} |")
        if args.object_storage:
            with s3_bucket() as url:
                started = time.perf_counter()
                upload(work / "lake", url)
                print(f"object storage: {files:,} objects put in {time.perf_counter() - started:.0f} s")
                print("| read (object storage) | seconds | rows | requests of one read |")
                print("|---|---:|---:|---|")
                for label, seconds, rows, requests in measure(url, last, args.repeat):
                    print(f"| {label} | {seconds:.3f} | {rows:,} | {requests} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
