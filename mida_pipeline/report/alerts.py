"""Alert delivery: the new and cleared alerts of marts.fct_experiment_alerts, posted once to a webhook.

One message per project per run, as JSON that Slack's and Microsoft Teams' incoming webhooks both accept as it
is (a `text` field in Markdown, plus Slack blocks). What was sent is recorded in a ledger beside the published
warehouse (`alerts/sent.jsonl`), one line per alert and event, written after the receiver accepted the message:
a re-execution, a restart or the next sync reads it and never sends an event twice. An alert raised and cleared
before it was ever announced (days a backfill went through) is not sent: the mart keeps it.

The webhook's address carries its credential, so it is registered as a secret before the first request and
never written into a message, a log line or the ledger.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import pandas as pd
from filelock import FileLock

from mida_pipeline.sources.redact import redact, register_secret

KIND_LABELS = {
    "srm": "Split broken",
    "ready_to_call": "Ready to call",
    "secondary_goal_harm": "Hurts another goal",
    "no_traffic": "No traffic",
    "underpowered": "Will not decide",
}
ATTEMPTS = 3  # a receiver that fails is asked again twice, a second and then two seconds later
SHOWN = 40  # alerts listed in one message; the rest are counted, the report and the mart hold them all


class DeliveryFailed(Exception):
    """Some projects' messages were not accepted; the message says which, and that they are sent next run."""


@dataclass
class Event:
    alert_id: str
    event: str  # raised or cleared
    alert_kind: str
    message: str


@dataclass
class Delivery:
    """What a run sent: per project, the events posted; and the projects whose post failed."""

    sent: dict[str, list[Event]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(len(v) for v in self.sent.values())


class Ledger:
    """The events already sent, one JSON line each, appended (and flushed to disk) after each accepted post."""

    def __init__(self, directory: Path):
        self.path = directory / "alerts" / "sent.jsonl"
        self.lock = FileLock(str(self.path) + ".lock")

    def read(self) -> set[tuple[str, str]]:
        if not self.path.exists():
            return set()
        sent = set()
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                sent.add((record["alert_id"], record["event"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash names nothing sent; its alert is sent again
        return sent

    def append(self, project_key: str, events: list[Event], sent_at: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(
            json.dumps({"alert_id": e.alert_id, "event": e.event, "project_key": project_key, "sent_at": sent_at})
            + "\n"
            for e in events
        )
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())


def read_alerts(warehouse: Path) -> pd.DataFrame:
    """Every alert of the published warehouse, with the experiment's and variant's names."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT a.*, e.test_name FROM marts.fct_experiment_alerts a "
            "LEFT JOIN marts.dim_experiments e USING (project_key, test_id) "
            "ORDER BY a.project_key, a.raised_on, a.test_id, a.alert_kind, a.variant_id"
        ).df()


def pending(alerts: pd.DataFrame, sent: set[tuple[str, str]]) -> dict[str, list[Event]]:
    """Per project, the events not yet sent: open alerts not announced, and announced alerts that cleared."""
    out: dict[str, list[Event]] = {}
    for row in alerts.itertuples(index=False):
        announced = (row.alert_id, "raised") in sent
        if row.is_open and not announced:
            event = "raised"
        elif not row.is_open and announced and (row.alert_id, "cleared") not in sent:
            event = "cleared"
        else:
            continue
        out.setdefault(row.project_key, []).append(Event(row.alert_id, event, row.alert_kind, row.message))
    return out


def payload(project_key: str, events: list[Event], report_link: str | None) -> dict:
    """The project's message: a headline, then one line per event with the alert's short id (its mart row)."""
    raised = sum(e.event == "raised" for e in events)
    cleared = len(events) - raised
    counts = ", ".join(
        part
        for part in (
            f"{raised} new alert{'s' * (raised != 1)}" if raised else "",
            f"{cleared} cleared" if cleared else "",
        )
        if part
    )
    headline = f"*{project_key}*: {counts}"
    lines = [
        f"• {'New' if e.event == 'raised' else 'Cleared'} · {KIND_LABELS.get(e.alert_kind, e.alert_kind)}: "
        f"{e.message} [alert {e.alert_id[:8]}]"
        for e in events[:SHOWN]
    ]
    if len(events) > SHOWN:
        lines.append(f"… and {len(events) - SHOWN} more in marts.fct_experiment_alerts")
    # Slack links as <url|label>, Teams as Markdown; the shared text carries the bare address, which both link.
    text = "\n".join([headline + (f" · report: {report_link}" if report_link else ""), *lines])
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": headline + (f" · <{report_link}|report>" if report_link else "")},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}},
    ]
    return {"text": text, "blocks": blocks}


def post_json(url: str, body: dict, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """POST `body`; a failure (an error status, no answer in `timeout` seconds) is tried again, ATTEMPTS in all.
    Raises DeliveryFailed with a reason that never contains the address."""
    register_secret(url)
    reason = "not tried"
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(float(attempt))
        try:
            response = httpx.post(url, json=body, timeout=timeout)
        except httpx.HTTPError as error:
            reason = f"{type(error).__name__}" + (
                " (no answer in time)" if isinstance(error, httpx.TimeoutException) else ""
            )
            continue
        if response.is_success:
            return
        reason = f"HTTP {response.status_code}"
    raise DeliveryFailed(redact(reason))


def deliver(
    warehouse: Path,
    url: str,
    timeout: float,
    report_links: dict[str, str] | None = None,
    now: Callable[[], str] | None = None,
) -> Delivery:
    """Post every project's unsent events, one message per project; record each accepted message in the ledger."""
    ledger = Ledger(warehouse.parent)
    now = now or (lambda: pd.Timestamp.now(tz="UTC").isoformat())
    delivery = Delivery()
    with ledger.lock:  # two runs at once would read the same ledger and both send
        for project_key, events in pending(read_alerts(warehouse), ledger.read()).items():
            link = (report_links or {}).get(project_key)
            try:
                post_json(url, payload(project_key, events, link), timeout)
            except DeliveryFailed as failure:
                delivery.failed[project_key] = str(failure)
                continue
            ledger.append(project_key, events, now())
            delivery.sent[project_key] = events
    return delivery


def open_alerts(warehouse: Path) -> pd.DataFrame:
    alerts = read_alerts(warehouse)
    return alerts[alerts["is_open"].astype(bool)].reset_index(drop=True)
