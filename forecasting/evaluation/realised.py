"""How a stored forecast did once the actuals arrived, next to what the backtest promised.

The held-out score of a run is a promise made on the past; the weeks after it are
the test a planner cares about. The same metrics as the backtest
(``forecasting.evaluation.metrics``: MASE and RMSSE scaled by each series' own history, WAPE
and bias pooled over volume) are computed on every forecast period that now has an
actual, overall, per series and per horizon step, with the coverage of the 80% and
95% bands. WAPE and bias are fractions of the actual volume here.

Drift is stated as a rule, so a planner can check it: the realised WAPE is
``DRIFT_RATIO`` times the held-out WAPE or more, or the 80% band holds under
``LOW_COVERAGE`` of the actuals, once ``MIN_PERIODS`` periods (or the whole
horizon, if shorter) have actuals. WAPE, not MASE: MASE is a mean over series of
each series' error over its own scale, so one near-empty series (a MASE of 1,281
beside a median of 0.63, issue 28) carries it and hides every other series' drift;
WAPE pools the errors over the volume, where a series weighs what it sells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.evaluation.intervals import LEVELS
from forecasting.evaluation.metrics import evaluate, summarize

DRIFT_RATIO = 1.5
LOW_COVERAGE = 0.6
MIN_PERIODS = 3
DRIFT_RULE = (
    f"drift: realised WAPE {DRIFT_RATIO:g}x the held-out WAPE or more, or under "
    f"{LOW_COVERAGE:.0%} of actuals inside the 80% band, once {MIN_PERIODS} periods "
    "have actuals"
)


@dataclass
class Realised:
    """The figures of one stored forecast against its actuals."""

    #: forecast periods (dates) that now have actuals, and the forecast rows scored
    periods: int
    points: int
    overall: dict
    #: one row per series: points, mase, rmsse, wape, bias, coverage80, coverage95
    series: pd.DataFrame
    #: one row per horizon step (1 = the first period after the data)
    steps: pd.DataFrame
    #: ``unique_id, ds, yhat``, bands and ``y``: what the figures were computed from
    rows: pd.DataFrame


def realised_accuracy(
    forecast: pd.DataFrame,
    actuals: pd.DataFrame,
    history: pd.DataFrame | None,
    season_length: int,
    scales: pd.DataFrame | None = None,
) -> Realised:
    """Score ``forecast`` (``unique_id, ds, yhat``, ``lo80``..``hi95``) on ``actuals``
    (``unique_id, ds, y``); ``history`` (the periods before each series' forecast), or
    its ``naive_scales``, scales MASE and RMSSE as the backtest does."""
    forecast = forecast.sort_values(["unique_id", "ds"]).copy()
    forecast["step"] = forecast.groupby("unique_id", sort=False).cumcount() + 1
    rows = forecast.merge(actuals[["unique_id", "ds", "y"]], on=["unique_id", "ds"])
    rows = rows.loc[rows["y"].notna()].reset_index(drop=True)
    if rows.empty:
        empty = pd.DataFrame(columns=["unique_id", "points"])
        return Realised(0, 0, _nothing(), empty, pd.DataFrame(columns=["step"]), rows)
    scored = rows.rename(columns={"yhat": "forecast"})
    per_series = evaluate(scored, history, ["forecast"], season_length, scales=scales)
    overall = summarize(per_series, scored).loc["forecast"]
    inside = {lv: _inside(rows, lv) for lv in LEVELS}
    series = per_series.drop(columns="model").set_index("unique_id")
    series.insert(0, "points", rows.groupby("unique_id").size())
    for lv in LEVELS:
        series[f"coverage{lv}"] = inside[lv].groupby(rows["unique_id"]).mean()
    series[["wape", "bias"]] = series[["wape", "bias"]] / 100
    figures = {
        "mase": float(overall["mase"]),
        "rmsse": float(overall["rmsse"]),
        "wape": float(overall["wape"]) / 100,
        "bias": float(overall["bias"]) / 100,
        **{f"coverage{lv}": float(inside[lv].mean()) for lv in LEVELS},
        "first": rows["ds"].min().date().isoformat(),
        "last": rows["ds"].max().date().isoformat(),
        "series_count": int(rows["unique_id"].nunique()),
    }
    return Realised(
        int(rows["ds"].nunique()),
        len(rows),
        figures,
        series.reset_index(),
        _by_step(rows, per_series, inside),
        rows,
    )


def _inside(rows: pd.DataFrame, level: int) -> pd.Series:
    lo, hi = rows.get(f"lo{level}"), rows.get(f"hi{level}")
    if lo is None or hi is None:
        return pd.Series(np.nan, index=rows.index)
    return ((rows["y"] >= lo) & (rows["y"] <= hi)).where(lo.notna() & hi.notna())


def _by_step(rows: pd.DataFrame, per_series: pd.DataFrame, inside: dict) -> pd.DataFrame:
    """MASE per step with each series' own scale (its MAE over its MASE), WAPE pooled."""
    scale = (per_series["mae"] / per_series["mase"]).set_axis(per_series["unique_id"])
    err = (rows["y"] - rows["yhat"]).abs()
    scaled = err / rows["unique_id"].map(scale).replace(0, np.nan)
    by = rows["step"]
    volume = rows["y"].abs().groupby(by).sum()
    table = pd.DataFrame(
        {
            "points": by.groupby(by).size(),
            "mase": scaled.groupby(by).mean(),
            "wape": err.groupby(by).sum() / volume.replace(0, np.nan),
            **{f"coverage{lv}": inside[lv].groupby(by).mean() for lv in LEVELS},
        }
    )
    table.index.name = "step"
    return table.reset_index()


def _nothing() -> dict:
    return {
        "mase": None,
        "rmsse": None,
        "wape": None,
        "bias": None,
        **{f"coverage{lv}": None for lv in LEVELS},
        "first": None,
        "last": None,
        "series_count": 0,
    }


@dataclass(frozen=True)
class Drift:
    drifted: bool
    why: str
    rule: str = DRIFT_RULE


def judge_drift(realised: Realised, promised_wape: float | None, horizon: int) -> Drift:
    """Whether the realised accuracy is worse than the backtest promised, by the rule
    (``promised_wape`` and the realised WAPE are fractions of the actual volume)."""
    needed = min(MIN_PERIODS, max(int(horizon), 1))
    if realised.periods < needed:
        return Drift(False, f"{realised.periods} of the {needed} periods the rule waits for")
    wape, cover = realised.overall["wape"], realised.overall.get("coverage80")
    reasons = []
    if promised_wape and wape is not None and wape >= DRIFT_RATIO * promised_wape:
        reasons.append(
            f"realised WAPE {wape:.1%} is {wape / promised_wape:.2f}x the held-out "
            f"{promised_wape:.1%}"
        )
    if cover is not None and cover == cover and cover < LOW_COVERAGE:
        reasons.append(f"only {cover:.0%} of the actuals fell inside the 80% band")
    if reasons:
        return Drift(True, "; ".join(reasons))
    said = f"realised WAPE {wape:.1%}" if wape is not None else "no WAPE"
    if promised_wape:
        said += f" against {promised_wape:.1%} held out"
    return Drift(False, said + ": within the rule")
