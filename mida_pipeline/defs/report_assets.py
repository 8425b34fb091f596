"""The experiment report: HTML pages built from the marts, with PNG previews in the Dagster UI."""


import base64

import dagster as dg

from mida_pipeline.defs.resources import Lake
from mida_pipeline.defs.schedules import MODELS_FOLLOW_RAW
from mida_pipeline.report import ReportOutput, build_report
from mida_pipeline.report.build import report_dir

GROUP = "report"
# The marts the report reads, and the staging view that gives its cumulative series.
READS = [
    dg.AssetKey(["marts", "fct_experiment_scorecard"]),
    dg.AssetKey(["marts", "dim_experiments"]),
    dg.AssetKey(["marts", "fct_store_traffic_daily"]),
    dg.AssetKey(["marts", "fct_store_traffic_weekly"]),
    dg.AssetKey(["staging", "stg_mida_experiment_results"]),
]


def _image(title: str, png: bytes) -> dg.MetadataValue:
    # The UI renders markdown images from data URIs, so the charts show without a file server.
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


def report_metadata(output: ReportOutput) -> dict:
    lines = ["| project | experiments | winner | loser | inconclusive | SRM warning | page |", "|---|---|---|---|---|---|---|"]
    for key, counts in output.verdicts.items():
        lines.append(
            f"| {key} | {sum(counts.values())} | {counts['winner']} | {counts['loser']} | {counts['inconclusive']} "
            f"| {counts['srm_warning']} | {output.pages[key].name} |"
        )
    metadata = {
        "report": dg.MetadataValue.path(str(output.index)),
        "open": dg.MetadataValue.url(output.index.as_uri()),
        "experiments": sum(sum(c.values()) for c in output.verdicts.values()),
        "projects": dg.MetadataValue.md("\n".join(lines)),
    }
    titles = {"store_daily": "Store traffic by day", "store_weekly": "Store traffic by week", "store_funnel": "Store funnel"}
    for name, png in output.charts.items():
        title = titles.get(name) or f"Lift over control, {name.removeprefix('lift_')}"
        metadata[f"chart_{name}"] = _image(title, png)
    return metadata


@dg.asset(
    name="experiment_report",
    group_name=GROUP,
    kinds={"python", "html"},
    deps=READS,
    automation_condition=MODELS_FOLLOW_RAW,  # rebuilt with the marts it reads, in the same run
    description="The experiment report: one self-contained HTML page per project (index.html links them). "
    "For each experiment, each variant's cumulative conversion rate with its 95 % band, the lift over control "
    "with its interval, a verdict badge (winner, loser, inconclusive, SRM warning) and revenue per visitor; "
    "then the store's daily and weekly traffic and funnel. Written to MIDA_REPORT_DIR (default: a report "
    "folder beside the warehouse); the overview charts show below.",
)
def experiment_report(context: dg.AssetExecutionContext, lake: Lake) -> dg.MaterializeResult:
    settings = lake.settings()
    output = build_report(
        settings.duckdb_path.resolve(),
        report_dir(settings),
        projects=settings.project_keys or None,
        lake_dir=lake.lake_dir,
    )
    context.log.info(f"report written to {output.index}")
    return dg.MaterializeResult(metadata=report_metadata(output))


assets = [experiment_report]
