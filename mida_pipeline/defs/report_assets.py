"""The experiment report: HTML pages built from the marts, with PNG previews in the Dagster UI."""

import base64

import dagster as dg
import pandas as pd

from mida_pipeline.defs.automation import MODELS_FOLLOW_RAW
from mida_pipeline.defs.metadata import table
from mida_pipeline.defs.resources import Lake, MidaApi
from mida_pipeline.report import ReportOutput, build_report
from mida_pipeline.report.build import report_dir

GROUP = "report"
# The marts the report reads (the daily scorecard gives its charts over time).
READS = [
    dg.AssetKey(["marts", "fct_experiment_scorecard"]),
    dg.AssetKey(["marts", "fct_experiment_scorecard_daily"]),
    dg.AssetKey(["marts", "fct_experiment_segment_scorecard"]),
    dg.AssetKey(["marts", "dim_experiments"]),
    dg.AssetKey(["marts", "fct_store_traffic_daily"]),
    dg.AssetKey(["marts", "fct_store_traffic_weekly"]),
]


def _image(title: str, png: bytes) -> dg.MetadataValue:
    # The UI renders markdown images from data URIs, so the charts show without a file server.
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


def report_metadata(output: ReportOutput) -> dict:
    projects = pd.DataFrame(
        [
            (
                key,
                sum(counts.values()),
                counts["winner"],
                counts["loser"],
                counts["inconclusive"],
                counts["srm_warning"],
                output.pages[key].name,
            )
            for key, counts in output.verdicts.items()
        ],
        columns=["project", "experiments", "winner", "loser", "inconclusive", "SRM warning", "page"],
    )
    metadata = {
        "report": dg.MetadataValue.path(str(output.index)),
        "open": dg.MetadataValue.url(output.index.as_uri()),
        "experiments": sum(sum(c.values()) for c in output.verdicts.values()),
        # What this build drew; every other section and page was kept from the last build (its rows did not change).
        "experiments drawn": output.drawn,
        "pages written": len(output.written),
        "projects": table(projects),
    }
    titles = {
        "store_daily": "Store traffic by day",
        "store_weekly": "Store traffic by week",
        "store_funnel": "Store funnel",
    }
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
    "For each experiment, a table per goal (the primary first) with each variant's lift, intervals, chance to beat "
    "control, Mida's verdict and the safe verdict; the primary goal's cumulative conversion rate with its 95 % band, "
    "the lift over control with its interval, the chance to beat control and sequential p-value over time; the "
    "segments, flagged exploratory; "
    "then the store's daily and weekly traffic and funnel. Written to MIDA_REPORT_DIR (default: a report "
    "folder beside the warehouse); the overview charts show below.",
)
def experiment_report(context: dg.AssetExecutionContext, lake: Lake, mida: MidaApi) -> dg.MaterializeResult:
    settings = mida.settings()
    # Discovered projects are every project in the marts; configured ones are exactly those listed.
    projects = None if settings.discover_projects else settings.project_keys or None
    output = build_report(lake.published_path, report_dir(lake.settings()), projects=projects, lake_dir=lake.lake_dir)
    context.log.info(
        f"report written to {output.index}: {output.drawn} experiments drawn, {len(output.written)} pages written"
    )
    return dg.MaterializeResult(metadata=report_metadata(output))


assets = [experiment_report]
