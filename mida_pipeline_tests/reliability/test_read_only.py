"""Item 7, read-only proof: over every run of this suite, the sandbox saw only GETs of Mida's read
endpoints and POSTs to the BSS sync path: never a write, whatever fault or crash the run met."""

from __future__ import annotations

import re

import pytest

from mida_pipeline.sandbox.bss_api import SYNC_PATH

pytestmark = pytest.mark.slow

MIDA_READS = re.compile(r"^/v2/project/[^/]+/(experiments|experiment/[^/]+(/result|/timeseries|/share-link)?|goals|goal/[^/]+|events|event/[^/]+)$")


def test_only_reads_reached_the_apis(rel_sandbox, baseline):
    seen = list(rel_sandbox.requests)
    assert len(seen) > 20
    writes = [(m, p) for m, p in seen if not ((m == "GET" and MIDA_READS.match(p)) or (m == "POST" and p == SYNC_PATH))]
    assert writes == []
    assert {m for m, _ in seen} == {"GET", "POST"}
