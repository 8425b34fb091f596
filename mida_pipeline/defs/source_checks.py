"""The raw tables' dbt tests (dbt/models/staging/_sources.yml) as asset checks of the raw assets.

The tests are declared once, in dbt; their checks are read from the manifest. They run in two places and report to the
same checks:

- in the models' `dbt build`, where a bad raw row warns before any mart reads it; the dbt asset reports those
  results as these checks' evaluations (`report_build_results`). The daily and weekly raw jobs leave the checks out,
  so a raw run writes the lake only and never starts dbt;
- in `raw_source_tests`, which runs the selected tests alone (`dbt build --select`), in a scratch DuckDB file
  holding the raw views (it never waits on the build file): the `raw_audit` job, and a raw asset materialized from
  the UI with its checks.

Both read only their run's window (dbt/macros/run_window.sql and scoped_tests.sql): the build the days synced since the
last build, a UI run its partitions. The raw_audit job has none and reads the whole lake.
"""

import json
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DbtCliInvocation, DbtCliResource

from mida_pipeline.defs.dbt_project import project, window_flags
from mida_pipeline.defs.partitions import run_days
from mida_pipeline.defs.resources import Lake
from mida_pipeline.lake.catalog import refresh_raw_views

# A test's status in dbt's run_results.json -> the check's severity when it did not pass.
SEVERITY = {
    "warn": dg.AssetCheckSeverity.WARN,
    "fail": dg.AssetCheckSeverity.ERROR,
    "error": dg.AssetCheckSeverity.ERROR,
}


def source_tests(manifest: Mapping[str, Any]) -> dict[dg.AssetCheckKey, Mapping[str, Any]]:
    """Each dbt test of exactly one raw table, by its check: the raw asset and the test's name."""
    out = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        sources = [n for n in node["depends_on"]["nodes"] if n.startswith("source.")]
        if len(sources) == 1 and len(node["depends_on"]["nodes"]) == 1:
            table = manifest["sources"][sources[0]]["name"]
            out[dg.AssetCheckKey(dg.AssetKey(table), node["name"])] = node
    return out


def _description(test: Mapping[str, Any]) -> str:
    if test.get("description"):
        return test["description"]
    meta = test.get("test_metadata") or {}
    arguments = {k: v for k, v in (meta.get("kwargs") or {}).items() if k != "model"}
    return f"dbt test {meta.get('name', test['name'])} {json.dumps(arguments) if arguments else ''}".strip()


def evaluations(
    run_results: Mapping[str, Any], tests: Mapping[dg.AssetCheckKey, Mapping[str, Any]]
) -> Iterator[tuple[dg.AssetCheckKey, dict]]:
    """The checks dbt ran, with what an AssetCheckResult or AssetCheckEvaluation takes (skipped tests are left out)."""
    by_id = {r["unique_id"]: r for r in run_results.get("results", [])}
    for key, test in tests.items():
        result = by_id.get(test["unique_id"])
        if result is None or result["status"] == "skipped":
            continue
        passed = result["status"] == "pass"
        metadata = {"dbt status": result["status"], "offending rows": result.get("failures") or 0}
        if result.get("message"):
            metadata["message"] = str(result["message"])
        yield (
            key,
            {
                "passed": passed,
                "severity": SEVERITY.get(result["status"], dg.AssetCheckSeverity.ERROR),
                "metadata": metadata,
            },
        )


def _manifest() -> Mapping[str, Any]:
    return json.loads(project.manifest_path.read_text()) if project.manifest_path.exists() else {"nodes": {}}


MANIFEST = _manifest()
TESTS = source_tests(MANIFEST)
CHECK_KEYS = list(TESTS)


def report_build_results(context: dg.AssetExecutionContext, invocation: DbtCliInvocation) -> None:
    """Report the raw tables' tests of a finished `dbt build` as their checks' evaluations."""
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:  # dbt stopped before running anything
        return
    for key, outcome in evaluations(run_results, TESTS):
        context.log_event(dg.AssetCheckEvaluation(asset_key=key.asset_key, check_name=key.name, **outcome))


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name=key.name, asset=key.asset_key, description=_description(test), blocking=False)
        for key, test in TESTS.items()
    ],
    can_subset=True,
    name="raw_source_tests",
    description="The raw tables' dbt tests, on the run's days (every day in the raw_audit job).",
)
def raw_source_tests(context: dg.AssetCheckExecutionContext, dbt: DbtCliResource, lake: Lake):
    selected = {key: TESTS[key] for key in context.selected_asset_check_keys}
    days = run_days(context.run)
    with tempfile.TemporaryDirectory(prefix="mida-raw-tests-") as tmp:
        scratch = Path(tmp) / "scratch.duckdb"  # not raw.duckdb: its catalog would shadow the schema raw
        with duckdb.connect(str(scratch)) as con:
            refresh_raw_views(con, lake.lake_dir)
        context.log.info(
            f"dbt test of {len(selected)} raw table tests on " + (f"{days[0]} to {days[1]}" if days else "every day")
        )
        invocation = dbt.cli(
            [
                "build",  # not `dbt test`, which takes no window
                "--select",
                " ".join(sorted(t["name"] for t in selected.values())),
                "--vars",
                json.dumps({"mida_build_path": str(scratch)}),
                *window_flags(days),
            ],
            manifest=MANIFEST,
            raise_on_error=False,
            target_path=Path(tmp) / "target",
        )
        messages = [e.raw_event.get("info", {}).get("msg", "") for e in invocation.stream_raw_events()]
        if not (Path(tmp) / "target" / "run_results.json").exists():
            raise RuntimeError(f"dbt test of the raw tables did not run: {' '.join(messages[-3:])[-400:]}")
        ran = dict(evaluations(invocation.get_artifact("run_results.json"), selected))
    for key in selected:
        # A test dbt did not run (it could not compile, or the lake lacks the table) fails its check, never passes it.
        outcome = ran.get(key, {"passed": False, "metadata": {"dbt status": "not run"}})
        yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, **outcome)


checks = [raw_source_tests] if CHECK_KEYS else []
