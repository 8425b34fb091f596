"""The package imports on a system without `fcntl` (Windows): file locks come from filelock, not the POSIX call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Every module but the `__main__` ones, which run their command when imported.
IMPORT_ALL = """
import importlib, pkgutil, sys
sys.modules["fcntl"] = None
import mida_pipeline
failed = []
for module in pkgutil.walk_packages(mida_pipeline.__path__, "mida_pipeline."):
    if module.name.rsplit(".", 1)[-1] == "__main__":
        continue
    try:
        importlib.import_module(module.name)
    except ImportError as exc:
        failed.append(f"{module.name}: {exc}")
print("\\n".join(failed))
"""


def test_every_module_imports_without_fcntl():
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"these modules need fcntl:\n{proc.stdout}"
