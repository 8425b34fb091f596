"""The experimentation program by month: what started, what ended and how it was decided, and what the winners add.

An experiment's outcome is its safe verdict on the primary goal at its last live day: `winner` when a variant is a
safe winner, else `loser` when one is a safe loser, `inconclusive` when it was scored without a safe decision, and
`undecided` when it never had a verdict (no results, or a broken split). Each winner counts once, by its best
variant.

The winners' relative lifts are summed with an interval that treats the experiments as independent: each lift's
standard error is read off its interval at the experiment's own threshold, and the sum's 95 % interval is
sum ± 1.96 · sqrt(sum of the squared errors). A lift chosen because it won is an overestimate on average (the
winner's curse), so the sum is an optimistic figure; the sum of each winner's sequential lower bound (relative to its
control's rate) is the conservative one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

OUTCOMES = ("winner", "loser", "inconclusive", "undecided")
Z95 = float(norm.ppf(0.975))

COLUMNS = [
    "project_key",
    "month_start_date",
    "experiments_started",
    "experiments_ended",
    *(f"ended_{o}" for o in OUTCOMES),
    "win_rate",
    "median_duration_days",
    "longest_duration_days",
    "winners_rel_lift_sum",
    "winners_rel_lift_sum_ci_low",
    "winners_rel_lift_sum_ci_high",
    "winners_rel_lift_sequential_low_sum",
]


def outcomes(last_days: pd.DataFrame) -> pd.DataFrame:
    """Per experiment, from its primary goal's rows on its last live day: the outcome and, for a winner, its best
    variant's relative lift, that lift's standard error, and its sequential lower bound relative to control."""
    rows = []
    for (project_key, test_id), card in last_days.groupby(["project_key", "test_id"], sort=True):
        challengers = card[~card["is_control"].astype(bool)]
        verdicts = set(challengers["safe_verdict"].dropna())
        if "srm_warning" in verdicts or not verdicts:
            outcome = "undecided"
        else:
            outcome = next((o for o in ("winner", "loser") if o in verdicts), "inconclusive")
        lift = se = sequential_low = np.nan
        if outcome == "winner":
            best = challengers[challengers["safe_verdict"] == "winner"].sort_values("rel_lift").iloc[-1]
            z = norm.ppf(1 - (1 - float(best["confidence_threshold_percent"]) / 100) / 2)
            lift = float(best["rel_lift"])
            se = (float(best["rel_ci_high"]) - float(best["rel_ci_low"])) / (2 * z)
            control = card[card["is_control"].astype(bool)]["conversion_rate"]
            if len(control) and float(control.iloc[0]) > 0:
                sequential_low = float(best["sequential_ci_low"]) / float(control.iloc[0])
        rows.append((project_key, test_id, outcome, lift, se, sequential_low))
    return pd.DataFrame(
        rows, columns=["project_key", "test_id", "outcome", "rel_lift", "rel_lift_se", "sequential_low"]
    )


def program_monthly(experiments: pd.DataFrame, last_days: pd.DataFrame) -> pd.DataFrame:
    """One row per project and month in which an experiment started or ended.

    `experiments`: project_key, test_id, started (date), ended (date, or null while it runs);
    `last_days`: the scorecard history's primary-goal rows of each experiment's last live day."""
    if experiments.empty:
        return pd.DataFrame(columns=COLUMNS)
    e = experiments.merge(outcomes(last_days), on=["project_key", "test_id"], how="left")
    e["outcome"] = e["outcome"].fillna("undecided")
    started = pd.to_datetime(e["started"])
    ended = pd.to_datetime(e["ended"])
    e["start_month"] = started.dt.to_period("M").dt.to_timestamp()
    e["end_month"] = ended.dt.to_period("M").dt.to_timestamp()
    e["duration_days"] = (ended - started).dt.days + 1
    months = (
        pd.concat(
            [
                e[["project_key", "start_month"]].set_axis(["project_key", "month_start_date"], axis=1),
                e.loc[e["end_month"].notna(), ["project_key", "end_month"]].set_axis(
                    ["project_key", "month_start_date"], axis=1
                ),
            ]
        )
        .dropna()
        .drop_duplicates()
        .sort_values(["project_key", "month_start_date"])
    )
    out = []
    for project_key, month in months.itertuples(index=False):
        mine = e[e["project_key"] == project_key]
        done = mine[mine["end_month"] == month]
        winners = done[done["outcome"] == "winner"]
        lift_sum = float(winners["rel_lift"].sum()) if len(winners) else np.nan
        half = Z95 * float(np.sqrt((winners["rel_lift_se"] ** 2).sum())) if len(winners) else np.nan
        counts = done["outcome"].value_counts()
        out.append(
            (
                project_key,
                month.date(),
                int((mine["start_month"] == month).sum()),
                len(done),
                *(int(counts.get(o, 0)) for o in OUTCOMES),
                len(winners) / len(done) if len(done) else np.nan,
                float(done["duration_days"].median()) if len(done) else np.nan,
                float(done["duration_days"].max()) if len(done) else np.nan,
                lift_sum,
                lift_sum - half,
                lift_sum + half,
                float(winners["sequential_low"].sum(min_count=1)) if len(winners) else np.nan,
            )
        )
    frame = pd.DataFrame(out, columns=COLUMNS)
    for c in ("median_duration_days", "longest_duration_days"):
        frame[c] = frame[c].astype("Float64")
    return frame
