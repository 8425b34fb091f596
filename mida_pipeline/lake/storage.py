"""Where the lake lives: a local folder, or object storage named by an fsspec URL.

`MIDA_LAKE_DIR=s3://bucket/prefix` (or `gs://`, `az://`, ... any fsspec
protocol whose package is installed) puts the lake in object storage. There a
partition is one object written by one PUT of the complete file: object stores
make a single PUT visible whole or not at all, so readers never see a torn
partition and a killed writer leaves nothing behind. Local folders keep the
temporary-file-and-rename path in writer.py.

Credentials are never read here: each fsspec filesystem takes its own from
its usual place (s3fs, through botocore, from the AWS variables, profile or
instance role, and `AWS_ENDPOINT_URL` points it at an S3-compatible server;
gcsfs and adlfs from theirs). Messages mask them (sources/redact.py). DuckDB
reads the lake through the same fsspec filesystem registered on its connection,
here and in dbt's profile, so no DuckDB extension is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fsspec

from mida_pipeline.sources.redact import redact

# The largest object S3 takes in one PUT; below it s3fs never starts a multipart upload.
SINGLE_PUT_LIMIT = 5 * 2**30 - 1


class LakeStorageError(Exception):
    """Object storage refused or failed an operation; the message names the object and the fix."""


def is_remote(lake: str | os.PathLike) -> bool:
    """True for an fsspec URL other than file://, which is a local folder.

    The one statement of the rule; dbt/profiles.yml states it again in Jinja (its target and filesystem), and a test
    holds the two to the same answers.
    """
    text = str(lake)
    return "://" in text and not text.startswith("file://")


def parse_lake_dir(value: str) -> Path | str:
    """MIDA_LAKE_DIR as a local Path, or the object-storage URL as given (without a trailing slash)."""
    value = value.strip()
    if value.startswith("file://"):
        return Path(value[len("file://") :])
    if is_remote(value):
        return value.rstrip("/")
    return Path(value)


def resolve(lake: str | os.PathLike) -> Path | str:
    """A local lake as an absolute Path; a URL unchanged."""
    return str(lake).rstrip("/") if is_remote(lake) else Path(lake).resolve()


def join(lake: str, *parts: str) -> str:
    return "/".join([str(lake).rstrip("/"), *parts])


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem for a lake URL and the URL's path within it."""
    try:
        # No listings cache: another process replaces objects, and a stale cached ETag makes reads fail.
        return fsspec.core.url_to_fs(url, use_listings_cache=False)
    except (ImportError, ValueError) as exc:
        raise LakeStorageError(
            f"MIDA_LAKE_DIR={redact(url)}: {redact(str(exc))}; use a local folder or an installed fsspec protocol such as s3://"
        ) from None


def _failure(action: str, url: str, exc: Exception) -> LakeStorageError:
    reason = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return LakeStorageError(
        f"{action} {redact(url)} failed: {type(exc).__name__}: {reason}; "
        "check that the bucket exists and that the AWS credentials (AWS_* variables or role) may read and write it"
    )


def put_whole(url: str, body: bytes) -> None:
    """Write one object with a single request: it appears complete, replacing the old one, or not at all."""
    fs, path = filesystem(url)
    try:
        if "s3" in _protocols(fs):
            # Never multipart: an interrupted multipart upload is invisible too, but one PUT has no parts to clean up.
            fs.pipe_file(path, body, chunksize=SINGLE_PUT_LIMIT)
        else:
            fs.pipe_file(path, body)
    except Exception as exc:
        raise _failure("writing", url, exc) from None


def read_bytes(url: str) -> bytes | None:
    """The object's content, or None when there is no such object."""
    fs, path = filesystem(url)
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        return None
    except Exception as exc:
        raise _failure("reading", url, exc) from None


def find(url: str, name: str) -> list[str]:
    """URLs of every object called `name` under the prefix `url`, sorted."""
    fs, path = filesystem(url)
    try:
        found = fs.find(path)
    except FileNotFoundError:
        return []
    except Exception as exc:
        raise _failure("listing", url, exc) from None
    return sorted(fs.unstrip_protocol(p) for p in found if p.rsplit("/", 1)[-1] == name)


def check_writable(url: str) -> str:
    """Put and remove a probe object, for `doctor`."""
    probe = join(url, ".mida-pipeline-probe")
    put_whole(probe, b"")
    fs, path = filesystem(probe)
    try:
        fs.rm_file(path)
    except Exception as exc:
        raise _failure("removing", probe, exc) from None
    return f"MIDA_LAKE_DIR {redact(url)} is writable"


def register(con, lake: str | os.PathLike) -> None:
    """Let a DuckDB connection read a remote lake through fsspec; nothing to do for a local one."""
    if not is_remote(lake):
        return
    fs, _ = filesystem(str(lake))
    # The registered filesystem serves the lake's URLs; refusing downloads keeps DuckDB offline if it ever would not.
    con.execute("SET autoinstall_known_extensions = false")
    if not any(con.filesystem_is_registered(p) for p in _protocols(fs)):
        con.register_filesystem(fs)


def _protocols(fs) -> tuple[str, ...]:
    return (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
