"""The experiment alerts, told: posted to a webhook once each after the models build, and shown as a check in the UI."""

import dagster as dg

from mida_pipeline.defs.automation import MODELS_FOLLOW_RAW
from mida_pipeline.defs.metadata import table
from mida_pipeline.defs.report_assets import GROUP
from mida_pipeline.defs.resources import Alerts, Lake
from mida_pipeline.report import alerts as delivery
from mida_pipeline.report.build import report_dir

ALERTS = dg.AssetKey(["marts", "fct_experiment_alerts"])
SHOWN_COLUMNS = ["project_key", "test_id", "alert_kind", "raised_on", "message"]


def _report_links(lake: Lake, configured: Alerts, projects) -> dict[str, str]:
    """Each project's report page: under MIDA_REPORT_URL when the report is served, else its file."""
    base = configured.settings().report_url
    if base:
        return {p: f"{base.rstrip('/')}/{p}.html" for p in projects}
    folder = report_dir(lake.settings())
    return {p: (folder / f"{p}.html").as_uri() for p in projects}


@dg.asset(
    name="alert_notifications",
    group_name=GROUP,
    kinds={"python"},
    deps=[ALERTS],
    automation_condition=MODELS_FOLLOW_RAW,  # after the marts it reads, in the same run
    description="The new and cleared alerts of marts.fct_experiment_alerts, posted to MIDA_ALERT_WEBHOOK_URL (Slack "
    "or Microsoft Teams incoming webhook) as one message per project, each event once: what was sent is recorded in "
    "alerts/sent.jsonl beside the warehouse, so re-executions and restarts never repeat one. Unset: nothing is sent. "
    "A receiver that keeps failing fails this step only; the marts stay built, and the events go on the next run.",
)
def alert_notifications(context: dg.AssetExecutionContext, lake: Lake, alerts: Alerts) -> dg.MaterializeResult:
    url = alerts.settings().alert_webhook_url
    if not url:
        context.log.info("MIDA_ALERT_WEBHOOK_URL is not set: no alert was sent")
        return dg.MaterializeResult(metadata={"sent": 0, "webhook": "not set"})
    warehouse = lake.published_path
    projects = set(delivery.read_alerts(warehouse)["project_key"])
    outcome = delivery.deliver(warehouse, url, alerts.settings().http_timeout, _report_links(lake, alerts, projects))
    sent = {project: len(events) for project, events in outcome.sent.items()}
    context.log.info(f"alerts sent: {outcome.events} events in {len(sent)} messages")
    if outcome.failed:
        first, reason = next(iter(outcome.failed.items()))
        raise dg.Failure(
            description=f"the alert webhook refused or did not answer for {len(outcome.failed)} project(s) "
            f"({first}: {reason}, after {delivery.ATTEMPTS} attempts); their alerts stay in "
            "marts.fct_experiment_alerts and are sent on the next run",
            metadata={"sent": outcome.events, "failed projects": ", ".join(sorted(outcome.failed))},
        )
    return dg.MaterializeResult(metadata={"sent": outcome.events, "messages": len(sent)})


@dg.asset_check(
    asset=ALERTS,
    name="no_open_alerts",
    description="Warns while any alert holds: the open alerts are listed below, each with what to do (docs/alerts.md).",
)
def no_open_alerts(lake: Lake) -> dg.AssetCheckResult:
    open_now = delivery.open_alerts(lake.published_path)
    counts = open_now["alert_kind"].value_counts().to_dict() if len(open_now) else {}
    return dg.AssetCheckResult(
        passed=open_now.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "open alerts": len(open_now),
            **{f"open {kind}": int(n) for kind, n in sorted(counts.items())},
            "alerts": table(open_now[SHOWN_COLUMNS].head(200)),
        },
    )


assets = [alert_notifications]
checks = [no_open_alerts]
