"""Alert delivery in itself: which events are due, the message Slack and Teams accept, the ledger, the retries.

A real HTTP receiver on loopback stands in for the webhook; nothing here runs the pipeline
(defs/test_alert_assets.py does, against the sandbox)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from mida_pipeline.report import alerts


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["alert_id", "project_key", "alert_kind", "is_open", "message"])


ALERTS = frame(
    ("a" * 32, "p1", "srm", True, "Test 1: visitors are not split as configured"),
    ("b" * 32, "p1", "ready_to_call", False, "Test 2: B is a safe winner"),
    ("c" * 32, "p2", "no_traffic", True, "Test 3: no new visitors for two synced days"),
    ("d" * 32, "p2", "underpowered", False, "Test 4: C needs about 900 more days"),
)


def test_open_alerts_not_announced_are_due_and_announced_ones_are_due_again_only_when_they_clear():
    assert {k: [(e.alert_id[0], e.event) for e in v] for k, v in alerts.pending(ALERTS, set()).items()} == {
        "p1": [("a", "raised")],
        "p2": [("c", "raised")],
    }  # b and d were raised and cleared before anyone was told: the mart keeps them, nobody is paged for history
    sent = {("a" * 32, "raised"), ("c" * 32, "raised"), ("b" * 32, "raised")}
    assert {k: [(e.alert_id[0], e.event) for e in v] for k, v in alerts.pending(ALERTS, sent).items()} == {
        "p1": [("b", "cleared")]
    }
    assert alerts.pending(ALERTS, sent | {("b" * 32, "cleared")}) == {}


def test_the_message_is_text_for_teams_and_blocks_for_slack_with_each_alerts_short_id():
    events = alerts.pending(ALERTS, {("b" * 32, "raised")})["p1"]
    body = alerts.payload("p1", events, "https://reports.example/p1.html")
    assert set(body) == {"text", "blocks"}
    lines = body["text"].splitlines()
    assert lines[0] == "*p1*: 1 new alert, 1 cleared · report: https://reports.example/p1.html"
    assert lines[1] == "• New · Split broken: Test 1: visitors are not split as configured [alert aaaaaaaa]"
    assert lines[2] == "• Cleared · Ready to call: Test 2: B is a safe winner [alert bbbbbbbb]"
    # Slack's block kit: sections of mrkdwn, each text within Slack's 3,000-character limit.
    assert [b["type"] for b in body["blocks"]] == ["section", "section"]
    assert body["blocks"][0]["text"]["text"].endswith("<https://reports.example/p1.html|report>")
    assert all(b["text"]["type"] == "mrkdwn" and len(b["text"]["text"]) <= 3000 for b in body["blocks"])


def test_a_long_list_is_cut_with_a_count_of_the_rest():
    many = [alerts.Event(f"{k:032x}", "raised", "underpowered", f"Test {k}: needs more days") for k in range(55)]
    lines = alerts.payload("p1", many, None)["text"].splitlines()
    assert len(lines) == 1 + alerts.SHOWN + 1 and lines[-1] == "… and 15 more in marts.fct_experiment_alerts"


def test_the_ledger_survives_a_line_cut_short(tmp_path):
    ledger = alerts.Ledger(tmp_path)
    ledger.append("p1", [alerts.Event("a" * 32, "raised", "srm", "m")], "2026-12-06T01:00:00+00:00")
    with open(ledger.path, "a") as f:
        f.write('{"alert_id": "bbbb')  # a crash in the middle of a line
    assert ledger.read() == {("a" * 32, "raised")}


class Receiver:
    """A webhook on loopback that records what it accepted; `answers` is what it does with each post in turn
    (a status code, or None to never answer until the test ends)."""

    def __init__(self, answers: list[int | None]):
        self.answers, self.accepted, self.calls = list(answers), [], 0
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.calls += 1
                answer = owner.answers.pop(0) if owner.answers else 200
                if answer is None:
                    owner.release.wait(30)
                    return
                if answer == 200:
                    owner.accepted.append(body)
                self.send_response(answer)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/SENTINEL-hook-token"

    def close(self):
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def receiver(request):
    made = []

    def make(answers):
        made.append(Receiver(answers))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_a_receiver_that_answers_500_then_200_gets_the_message_once(receiver):
    hook = receiver([500, 200])
    waits = []
    alerts.post_json(hook.url, {"text": "x"}, timeout=2, sleep=waits.append)
    assert hook.calls == 2 and hook.accepted == [{"text": "x"}] and waits == [1.0]


def test_a_receiver_that_never_answers_fails_after_every_attempt_without_naming_the_address(receiver):
    hook = receiver([None, None, None])
    with pytest.raises(alerts.DeliveryFailed) as failure:
        alerts.post_json(hook.url, {"text": "x"}, timeout=0.5, sleep=lambda s: None)
    assert hook.calls == alerts.ATTEMPTS and hook.accepted == []
    assert "no answer in time" in str(failure.value) and "SENTINEL" not in str(failure.value)
