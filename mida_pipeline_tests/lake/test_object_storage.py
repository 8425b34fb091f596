"""A lake in object storage: an S3-compatible server on loopback (moto's server mode) stands in for S3.

Each partition is one object put in one request, DuckDB reads the lake through
the fsspec filesystem registered on its connection, and the pipeline syncs,
backfills, re-runs and survives a kill mid-write exactly as on a local disk.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import uuid
from datetime import date, datetime, timedelta, timezone

import duckdb
import pyarrow.parquet as pq
import pytest
import s3fs
from moto.server import ThreadedMotoServer

from mida_pipeline import days as cal
from mida_pipeline.lake import storage
from mida_pipeline.lake.catalog import refresh_raw_views
from mida_pipeline.lake.writer import read_partition, sweep_temporaries, write_partition
from mida_pipeline.sources.redact import redact
from mida_pipeline_tests.helpers import expected, results, run_cli

NOW = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)
DAY = cal.latest_complete_day("UTC") - timedelta(days=3)
KEY_ID, SECRET = "AKIAMIDATESTKEY00001", "mida-s3-secret-" + uuid.uuid4().hex
# Partitioned by project and day; the company's projects (one listing) by day alone.
TABLES = (
    "mida_experiments",
    "mida_experiment_variants",
    "mida_experiment_goals",
    "mida_experiment_results",
    "mida_experiment_result_segments",
    "mida_goals",
    "mida_events",
    "mida_project_configuration",
)
ALL_TABLES = (*TABLES, "mida_projects", "bss_analytics_daily")


@pytest.fixture(scope="module")
def s3_endpoint():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(s3_endpoint, monkeypatch) -> dict[str, str]:
    """The standard AWS variables, pointing botocore (and so s3fs) at the loopback server."""
    variables = dict(
        AWS_ACCESS_KEY_ID=KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=s3_endpoint,
    )
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


@pytest.fixture
def bucket(aws) -> str:
    """A fresh bucket per test, so tests never see each other's objects."""
    name = f"lake-{uuid.uuid4().hex[:12]}"
    s3().mkdir(name)
    return name


def s3() -> s3fs.S3FileSystem:
    """The test's own view of the server, never a cached instance shared with the code under test."""
    return s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)


def objects(bucket: str) -> dict[str, bytes]:
    fs = s3()
    return {path: fs.cat_file(path) for path in fs.find(bucket)}


def event(pk: str, day: date, event_id: str = "e1") -> dict:
    return {"project_key": pk, "date": day, "event_id": event_id, "captured_at": NOW, "raw": "{}"}


# --- writes and reads, in process ---------------------------------------------------------------


def test_a_partition_is_one_object_at_its_hive_path_and_a_rewrite_replaces_it(bucket):
    lake, day = f"s3://{bucket}/lake", date(2026, 3, 1)
    written = write_partition(
        lake, "mida_events", [event("shop", day, "e1"), event("shop", day, "e2")], day=day, project_key="shop"
    )
    assert written.path == f"s3://{bucket}/lake/mida_events/project_key=shop/date=2026-03-01/part.parquet"
    write_partition(lake, "mida_events", [event("shop", day, "e3")], day=day, project_key="shop")
    stored = objects(bucket)
    assert list(stored) == [f"{bucket}/lake/mida_events/project_key=shop/date=2026-03-01/part.parquet"]
    assert pq.read_table(io.BytesIO(next(iter(stored.values())))).column("event_id").to_pylist() == ["e3"]
    assert read_partition(lake, "mida_events", day, "shop").num_rows == 1
    assert read_partition(lake, "mida_events", day, "other") is None
    assert sweep_temporaries(lake) == 0


def test_raw_views_read_the_bucket_through_the_registered_filesystem(bucket):
    lake = f"s3://{bucket}/lake"
    for day in (date(2026, 3, 1), date(2026, 3, 2)):
        for pk in ("123", "shop"):
            write_partition(lake, "mida_events", [event(pk, day)], day=day, project_key=pk)
    with duckdb.connect() as con:
        refresh_raw_views(con, lake)
        rows = con.execute("SELECT project_key, date FROM raw.mida_events ORDER BY ALL").fetchall()
        assert con.execute("SELECT count(*) FROM raw.mida_goals").fetchone() == (0,)  # nothing written: empty, typed
        # Read through fsspec, not DuckDB's own S3 support: no extension was loaded, let alone downloaded.
        assert con.execute(
            "SELECT count(*) FROM duckdb_extensions() WHERE extension_name = 'httpfs' AND loaded"
        ).fetchone() == (0,)
    assert rows == [
        ("123", date(2026, 3, 1)),
        ("123", date(2026, 3, 2)),
        ("shop", date(2026, 3, 1)),
        ("shop", date(2026, 3, 2)),
    ]


def test_a_missing_bucket_fails_in_one_line_that_names_the_object_and_never_the_secret(aws):
    with pytest.raises(storage.LakeStorageError) as failure:
        write_partition(
            "s3://no-such-bucket-here/lake",
            "mida_events",
            [event("shop", NOW.date())],
            day=NOW.date(),
            project_key="shop",
        )
    message = str(failure.value)
    assert "s3://no-such-bucket-here/lake/mida_events/project_key=shop/" in message and "bucket exists" in message
    assert len(message.splitlines()) == 1 and SECRET not in message and KEY_ID not in message


def test_the_doctor_probe_writes_and_removes_one_object(bucket):
    assert storage.check_writable(f"s3://{bucket}/lake") == f"MIDA_LAKE_DIR s3://{bucket}/lake is writable"
    assert objects(bucket) == {}
    with pytest.raises(storage.LakeStorageError, match="no-such-bucket-here"):
        storage.check_writable("s3://no-such-bucket-here/lake")


def test_credentials_in_a_url_or_the_environment_are_masked(aws):
    assert redact(f"s3://{KEY_ID}:{SECRET}@bucket/x failed with {SECRET}") == "s3://***@bucket/x failed with ***"


@pytest.mark.parametrize(
    "value, parsed",
    [
        ("s3://bucket/prefix/", "s3://bucket/prefix"),
        ("gs://bucket", "gs://bucket"),
        ("file:///srv/lake", storage.Path("/srv/lake")),
        ("data/lake", storage.Path("data/lake")),
    ],
)
def test_lake_dir_is_a_url_or_a_folder(value, parsed):
    assert storage.parse_lake_dir(value) == parsed


# --- the pipeline, as a user runs it ------------------------------------------------------------


@pytest.fixture
def s3_env(pipeline_env, aws, bucket) -> dict[str, str]:
    return pipeline_env | aws | {"MIDA_LAKE_DIR": f"s3://{bucket}/lake"}


def lake_rows(env, table: str) -> list[tuple]:
    """A table's rows read straight from the bucket, without the capture time (which a re-run moves)."""
    with duckdb.connect() as con:
        storage.register(con, env["MIDA_LAKE_DIR"])
        return con.execute(
            f"SELECT * EXCLUDE (captured_at, raw) FROM read_parquet('{env['MIDA_LAKE_DIR']}/{table}/**/*.parquet', "
            "hive_partitioning = true) ORDER BY ALL"
        ).fetchall()


def assert_never_stored(secret: str, env: dict[str, str], bucket: str, *outputs: str) -> None:
    for path, body in objects(bucket).items():
        assert secret.encode() not in body, path
    for folder in (env["DAGSTER_HOME"], os.path.dirname(env["MIDA_DUCKDB_PATH"])):
        for root, _, files in os.walk(folder):
            for name in files:
                with open(os.path.join(root, name), "rb") as fh:
                    assert secret.encode() not in fh.read(), name
    for text in outputs:
        assert secret not in text


@pytest.mark.slow
def test_a_rerun_killed_mid_write_leaves_whole_objects_and_the_next_rerun_is_identical(s3_env, bucket, tmp_path):
    run_cli(s3_env, "sync", "--date", DAY.isoformat())
    first_rows = {t: lake_rows(s3_env, t) for t in ALL_TABLES}
    first = objects(bucket)

    # The re-run kills itself with SIGKILL at its fifth object write, as a lost pod would.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(KILL_AT_NTH_PUT)
    proc = run_cli(
        s3_env | {"PYTHONPATH": str(hooks), "MIDA_TEST_KILL_AT_PUT": "5"},
        "sync",
        "--date",
        DAY.isoformat(),
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL
    after_crash = objects(bucket)
    assert set(after_crash) == set(first)  # nothing added, nothing lost
    replaced = [k for k in first if after_crash[k] != first[k]]
    # Partitions are written from several threads, so up to four PUTs were under way when the fifth killed the
    # process: at most those landed, the fifth never did, and the run was cut short.
    assert len(replaced) <= 4 < len(first)
    for body in after_crash.values():
        pq.read_table(io.BytesIO(body))  # each object is a complete Parquet file, old or new

    run_cli(s3_env, "sync", "--date", DAY.isoformat())
    assert {t: lake_rows(s3_env, t) for t in ALL_TABLES} == first_rows
    assert set(objects(bucket)) == set(first)


@pytest.mark.slow
def test_a_backfill_lands_every_day_in_the_bucket_and_bi_tools_read_the_marts_without_setup(sandbox, s3_env, bucket):
    start = DAY - timedelta(days=2)
    proc = run_cli(s3_env, "backfill", "--start", start.isoformat(), "--end", DAY.isoformat())
    days = {start + timedelta(days=i) for i in range(3)}
    assert all(k.endswith("/part.parquet") for k in objects(bucket))
    with duckdb.connect() as con:
        storage.register(con, s3_env["MIDA_LAKE_DIR"])
        for table in TABLES:
            landed = con.execute(
                f"SELECT DISTINCT project_key, date FROM read_parquet('{s3_env['MIDA_LAKE_DIR']}/{table}/**/*.parquet', "
                "hive_partitioning = true)"
            ).fetchall()
            assert set(landed) == {(pk, d) for pk in sandbox.data.project_keys for d in days}, table
        listed = con.execute(
            f"SELECT DISTINCT project_key, date FROM read_parquet('{s3_env['MIDA_LAKE_DIR']}/mida_projects/**/*.parquet', "
            "hive_partitioning = true)"
        ).fetchall()
        company = [p["project_key"] for p in sandbox.data.projects(include_inactive=True)]
        assert set(listed) == {(pk, d) for pk in company for d in days}
    # A plain DuckDB client: the marts are tables in the file and need nothing registered.
    with duckdb.connect(s3_env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_experiment_scorecard").fetchone()[0] > 0
    # The raw views read the bucket once the same filesystem is registered (what dbt's profile does).
    with duckdb.connect(s3_env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        storage.register(con, s3_env["MIDA_LAKE_DIR"])
        for window in ("day", "cumulative"):
            assert results(con, DAY, window) == expected(sandbox, DAY, window)
    assert_never_stored(SECRET, s3_env, bucket, proc.stdout, proc.stderr)


KILL_AT_NTH_PUT = """
import os, signal
import s3fs.core

_call_s3 = s3fs.core.S3FileSystem._call_s3
_puts = [0]


async def _dying_call_s3(self, method, *args, **kwargs):
    if method == "put_object":
        _puts[0] += 1
        if _puts[0] == int(os.environ["MIDA_TEST_KILL_AT_PUT"]):
            # The partition's file is built and its request is about to go out: die here, as a lost pod would.
            os.kill(os.getpid(), signal.SIGKILL)
    return await _call_s3(self, method, *args, **kwargs)


s3fs.core.S3FileSystem._call_s3 = _dying_call_s3
"""
