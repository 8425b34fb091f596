"""What a report build keeps beside the pages so the next one redraws only what changed, and how it writes.

`<report>/.report/state.json` holds each page's and each experiment section's content hash; the sections and
charts drawn are kept beside it. Every file is written beside its target and renamed into place, so a failure
leaves the previous report as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import pandas as pd

STATE_DIR = ".report"  # beside the pages: what each was built from, and the sections drawn
STATE_VERSION = 1


def content_hash(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, pd.DataFrame):
            h.update(pd.util.hash_pandas_object(part.reset_index(drop=True), index=False).values.tobytes())
            h.update(repr(list(part.columns)).encode())
        elif isinstance(part, bytes):
            h.update(part)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


def write_all(files: dict[Path, str | bytes]) -> None:
    """Write every file beside its target, then rename each into place."""
    staged = []
    try:
        for target, content in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            if isinstance(content, bytes):
                tmp.write_bytes(content)
            else:
                tmp.write_text(content, encoding="utf-8")
            staged.append((tmp, target))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


class BuildState:
    """What the last build drew, kept in `<report>/.report/`: hashes in state.json, sections and charts beside it."""

    def __init__(self, out_dir: Path, fresh: bool):
        self.dir = out_dir / STATE_DIR
        self.file = self.dir / "state.json"
        saved = {}
        if not fresh and self.file.exists():
            try:
                saved = json.loads(self.file.read_text())
            except (OSError, ValueError):  # unreadable: the build draws everything, as the first one did
                saved = {}
        if saved.get("version") != STATE_VERSION:
            saved = {}
        self.saved = saved
        self.new: dict = {
            "version": STATE_VERSION,
            "pages": dict(saved.get("pages", {})),
            "experiments": dict(saved.get("experiments", {})),
        }

    def section_path(self, key: str, test_id: int) -> Path:
        return self.dir / "sections" / key / f"{test_id}.html"

    def chart_path(self, name: str) -> Path:
        return self.dir / "charts" / f"{name}.png"

    def kept_section(self, key: str, test_id: int, digest: str, ended: bool) -> dict | None:
        """The last build's section of this experiment, when it still shows the same rows (or ended, once drawn)."""
        before = self.saved.get("experiments", {}).get(f"{key}/{test_id}")
        if not before or not self.section_path(key, test_id).exists():
            return None
        if before["hash"] == digest or (ended and before.get("ended")):
            return before
        return None

    def page_unchanged(self, name: str, digest: str, path: Path) -> bool:
        return self.saved.get("pages", {}).get(name) == digest and path.exists()
