"""Adjusted p-values for many comparisons at once, each family adjusted on its own.

`groups` labels each p-value's family (in the scorecard: one experiment on one day, every non-control variant on
every goal). NaN p-values are not comparisons: they stay NaN and do not count in their family's size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _ranked(p, groups) -> pd.DataFrame:
    p = np.asarray(p, dtype=float)
    frame = pd.DataFrame({"p": p, "g": pd.factorize(pd.Series(groups), use_na_sentinel=False)[0]})
    frame = frame[frame["p"].notna()].sort_values(["g", "p"], kind="mergesort")
    frame["m"] = frame.groupby("g")["p"].transform("size")
    frame["rank"] = frame.groupby("g").cumcount() + 1
    return frame


def holm(p, groups) -> np.ndarray:
    """Holm-Bonferroni: the i-th smallest of m becomes max over j <= i of min(1, (m - j + 1) p_(j))."""
    frame = _ranked(p, groups)
    frame["adj"] = np.minimum(1.0, (frame["m"] - frame["rank"] + 1) * frame["p"])
    frame["adj"] = frame.groupby("g")["adj"].cummax()
    out = np.full(len(np.asarray(p)), np.nan)
    out[frame.index.to_numpy()] = frame["adj"].to_numpy()
    return out


def benjamini_hochberg(p, groups) -> np.ndarray:
    """Benjamini-Hochberg q-values: the i-th smallest of m becomes min over j >= i of min(1, m p_(j) / j)."""
    frame = _ranked(p, groups)
    frame["adj"] = np.minimum(1.0, frame["m"] * frame["p"] / frame["rank"])
    frame["adj"] = frame.iloc[::-1].groupby("g")["adj"].cummin().iloc[::-1]
    out = np.full(len(np.asarray(p)), np.nan)
    out[frame.index.to_numpy()] = frame["adj"].to_numpy()
    return out
