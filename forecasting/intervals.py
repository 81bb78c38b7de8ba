"""Split-conformal prediction intervals per horizon step.

Conformity scores are the absolute rolling-origin errors divided by each
series' naive scale, pooled across series (so one series with three folds
still gets a usable quantile) and, where too few, across neighbouring steps.
The scores come from validation folds only, never the evaluated window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = (80, 95)
MIN_SCORES = 40


def add_step(frame: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """Number each row's horizon step (0-based) within its series and cutoff."""
    return frame.assign(step=frame.groupby(group, sort=False).cumcount())


def conformal_quantiles(
    cv: pd.DataFrame, scale: pd.Series, column: str, levels: tuple[int, ...] = LEVELS
) -> pd.DataFrame:
    """Scaled error quantile per (step, level), with the finite-sample correction."""
    cv = add_step(cv, ["unique_id", "cutoff"])
    score = (cv["y"] - cv[column]).abs() / cv["unique_id"].map(scale).to_numpy()
    by_step = [score[cv["step"] == s].dropna().to_numpy() for s in range(cv["step"].max() + 1)]
    rows = {}
    for s in range(len(by_step)):
        pooled, width = by_step[s], 0
        while len(pooled) < MIN_SCORES and width < len(by_step):
            width += 1
            lo, hi = max(0, s - width), min(len(by_step), s + width + 1)
            pooled = np.concatenate(by_step[lo:hi])
        rows[s] = {level: _quantile(pooled, level / 100) for level in levels}
    return pd.DataFrame.from_dict(rows, orient="index")


def _quantile(scores: np.ndarray, coverage: float) -> float:
    n = len(scores)
    if n == 0:
        return float("nan")
    rank = min(1.0, np.ceil((n + 1) * coverage) / n)
    return float(np.quantile(scores, rank, method="higher"))


def apply_intervals(
    forecast: pd.DataFrame,
    quantiles: pd.DataFrame,
    scale: pd.Series,
    nonnegative: pd.Series,
    levels: tuple[int, ...] = LEVELS,
) -> pd.DataFrame:
    """Add ``lo<level>``/``hi<level>`` around ``yhat``; lower bounds clipped at 0 for sales."""
    out = add_step(forecast, ["unique_id"])
    last = quantiles.index.max()
    step = out["step"].clip(upper=last)
    width_scale = out["unique_id"].map(scale).to_numpy()
    floor = np.where(out["unique_id"].map(nonnegative).fillna(False).to_numpy(), 0.0, -np.inf)
    for level in levels:
        half = quantiles[level].reindex(step).to_numpy() * width_scale
        out[f"lo{level}"] = np.maximum(out["yhat"].to_numpy() - half, floor)
        out[f"hi{level}"] = out["yhat"].to_numpy() + half
    return out.drop(columns="step")


def coverage(frame: pd.DataFrame, levels: tuple[int, ...] = LEVELS) -> dict[str, float]:
    """Share of actuals inside each interval."""
    return {
        str(level): float(
            ((frame["y"] >= frame[f"lo{level}"]) & (frame["y"] <= frame[f"hi{level}"])).mean()
        )
        for level in levels
    }
