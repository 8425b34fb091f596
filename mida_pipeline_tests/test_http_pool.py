"""`python -m benchmarks.http_pool` works: both pools make the calls and the table names each, at a smoke size.

Speed is not asserted (benchmarks/RESULTS.md holds the figures): only that the benchmark runs and reports.
"""

from __future__ import annotations

import re

from benchmarks import http_pool


def test_the_benchmark_reports_both_pools_and_their_ratio(capsys):
    assert http_pool.main(["--calls", "40", "--concurrency", "4", "--latency-ms", "1", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    for arm in ("stock", "pipeline"):
        assert re.search(rf"^\| {arm} \| [0-9.]+ s \| [0-9.]+ s \| [0-9.]+ ms \|$", out, re.M), out
    assert re.search(r"^client CPU, pipeline / stock: [0-9.]+x$", out, re.M), out
