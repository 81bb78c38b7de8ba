"""Why the served model serves: its validation score next to the runner-up's and the
baseline's, for all validated series or per demand class where the choice was per class.

A planner reading "ensemble serves" cannot tell a choice that won by a mile from one
that won by a hair; these figures, kept with the run, say which. The scores are the
selection's own (``Selection.scores``: the mean of MASE and RMSSE over the validation
folds), averaged over the series that chose.
"""

from __future__ import annotations

import pandas as pd

from forecasting.models import BASELINE


def why_served(
    scores: pd.DataFrame, choice: pd.Series, classes: pd.Series | None = None
) -> list[dict]:
    """One row per group that made a choice (``all``, or each demand class with a choice
    of its own): served candidate and score, runner-up and score, baseline score, series."""
    validated = choice.loc[choice.index.intersection(scores.index)]
    if validated.empty:
        return []
    groups = {"all": validated.index}
    if classes is not None:
        by_class = classes.reindex(validated.index)
        own = {c: idx for c, idx in validated.groupby(by_class).groups.items()}
        if len({validated.loc[idx].mode().iloc[0] for idx in own.values()}) > 1:
            groups = own
    rows = []
    for group, index in groups.items():
        served = validated.loc[index].mode().iloc[0]
        means = scores.loc[index].mean(skipna=True).dropna()
        if served not in means:
            continue
        others = means.drop(served)
        runner = others.idxmin() if len(others) else None
        rows.append(
            {
                "group": str(group),
                "series": len(index),
                "served": served,
                "score": round(float(means[served]), 4),
                "runner_up": runner,
                "runner_up_score": round(float(others[runner]), 4) if runner else None,
                "baseline_score": (round(float(means[BASELINE]), 4) if BASELINE in means else None),
            }
        )
    return rows


def describe_why(rows: list[dict]) -> str | None:
    """The rows in one sentence: 'X serves: validation score 0.71, runner-up Y 0.74,
    seasonal naive 0.95' (per class joined with semicolons)."""
    if not rows:
        return None
    parts = []
    for r in rows:
        text = f"{r['served']} serves" if r["group"] == "all" else f"{r['group']}: {r['served']}"
        text += f" (validation score {r['score']:.3f}"
        if r["runner_up"] and r["runner_up_score"] < r["score"]:  # held: not beyond noise
            text += (
                f", {r['runner_up']} {r['runner_up_score']:.3f}: lower, but not by more than "
                "noise across series and folds, so it did not replace it"
            )
        elif r["runner_up"]:
            text += f", runner-up {r['runner_up']} {r['runner_up_score']:.3f}"
        if r["baseline_score"] is not None and r["served"] != BASELINE:
            text += f", seasonal naive {r['baseline_score']:.3f}"
        parts.append(text + f"; {r['series']} series)")
    lead = "Why: " if rows[0]["group"] != "all" else ""
    return lead + "; ".join(parts) + ". Lower is better."
