"""Item 7, read-only proof: over every run of this suite, the sandbox saw only GETs of Mida's read
endpoints and POSTs to the BSS sync path: never a write, whatever fault or crash the run met."""

from __future__ import annotations

import re

import pytest

from mida_pipeline.sandbox.bss_api import SYNC_PATH
from mida_pipeline_tests.reliability.helpers import REQUESTS_WITH_QUERY

pytestmark = pytest.mark.slow

MIDA_READS = re.compile(
    r"^/v2/project/[^/]+/(experiments|experiment/[^/]+(/result|/metrics|/timeseries|/share-link)?|goals|goal/[^/]+"
    r"|events|event/[^/]+|configuration|projects)$"
)
# What a sync reads since it fetches every goal, segments, the configuration and the company's projects.
NEW_READS = {"/metrics", "/configuration", "/projects"}


def test_only_reads_reached_the_apis(rel_sandbox, baseline):
    seen = list(rel_sandbox.requests)
    assert len(seen) > 20
    writes = [(m, p) for m, p in seen if not ((m == "GET" and MIDA_READS.match(p)) or (m == "POST" and p == SYNC_PATH))]
    assert writes == []
    assert {m for m, _ in seen} == {"GET", "POST"}
    # The proof covers the new calls: each was made, a secondary goal's and a breakdown's result included (the same
    # path as the primary goal's, told apart by the query the suite logs beside the sandbox's own log).
    assert all(any(p.endswith(tail) for m, p in seen if m == "GET") for tail in NEW_READS)
    with_query = [(m, p, q) for m, p, q in REQUESTS_WITH_QUERY if p.startswith("/v2/")]
    assert {m for m, _, _ in with_query} == {"GET"}
    assert all(
        any(f"{param}=" in q for _, p, q in with_query if p.endswith("/result"))
        for param in ("goal_key", "breakdown_by")
    )
