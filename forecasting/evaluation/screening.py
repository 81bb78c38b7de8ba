"""Expensive models earn their place on a sample of series before they cost the whole panel.

Prophet and SARIMA cost ten to a hundred times more per series than the cheap
candidates (the naive family, the intermittent methods, ETS, Theta, the global
trees) and are rarely served. Before one is validated on every series it is
validated on a stratified sample (every demand class and every volume band in
proportion, at least one series of each), next to the cheap candidates'
validation on the same series. It goes on to the rest only when the best
candidate with it (the model alone, or an average of the best few that
includes it) beats the best candidate without it, series by series, beyond
noise: a paired t statistic of ``NOISE_T``, the rule the selection
applies to a pool of series. The sample is validated on the newest fold only (a
third of the cost, and the fold most like the periods ahead). Where it cannot
win, it is not fitted at all, and the run says so with the sample's figures. A
model that wins must also be affordable: its validation on every series, projected
from the sample's seconds, may cost no more than ``AFFORDABLE`` times what the
cheap candidates' validation cost together (ARIMA on 366 monthly Tourism series
would have cost three times AutoETS's whole fit). A data set with few series is
simply validated whole: there is little to spare.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.evaluation.backtest import validation_score
from forecasting.evaluation.departures import NOISE_T, paired_t
from forecasting.evaluation.selection import MAX_ENSEMBLE, candidate_table

#: series in a screening sample: a quarter of the validated series, within these bounds;
#: a data set with no more than twice the smallest sample is validated whole
SAMPLE_SERIES = (12, 20)


def sample_size(series: int) -> int | None:
    """How many series to screen on, or None when screening would save too little."""
    low, high = SAMPLE_SERIES
    if series <= 2 * low:
        return None
    return int(min(max(series // 4, low), high))


#: volume bands within each demand class
VOLUME_BANDS = 3
#: an expensive model may cost at most this many times the cheap candidates' validation
AFFORDABLE = 1.0
#: or this many seconds, on a data set the cheap candidates validate in next to no time
MIN_BUDGET_SECONDS = 2.0


@dataclass(frozen=True)
class Screen:
    """What the sample said of one expensive model."""

    model: str
    #: whether it went on to be validated (and fitted) on every series
    kept: bool
    sample: tuple[str, ...]
    #: mean validation score (mean of MASE and RMSSE) on the sample: the best candidate
    #: with the model and the best without it, and the paired t of the difference
    with_model: float
    without_model: float
    best_with: str
    best_without: str
    t_stat: float
    seconds: float
    series: int
    #: its validation on every series projected from the sample, and what the cheap
    #: candidates' validation cost (the budget it is held to, times ``AFFORDABLE``)
    projected_seconds: float = float("nan")
    budget_seconds: float = float("nan")
    #: a screen decided by the data's shape, not by a sample: why the model sat out
    reason: str = ""

    @classmethod
    def sat_out(cls, model: str, reason: str, series: int) -> Screen:
        """A model the data's shape leaves out before any fit (``TrainOptions.for_panel``)."""
        nan = float("nan")
        return cls(model, False, (), nan, nan, "", "", nan, 0.0, series, reason=reason)

    @property
    def affordable(self) -> bool:
        budget = max(AFFORDABLE * self.budget_seconds, MIN_BUDGET_SECONDS)
        return not self.projected_seconds > budget

    def describe(self) -> str:
        return describe_screen(self.to_dict())

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "kept": self.kept,
            "sample_series": len(self.sample),
            "series": self.series,
            "with_model": round(self.with_model, 4),
            "without_model": round(self.without_model, 4),
            "best_with": self.best_with,
            "best_without": self.best_without,
            "t_stat": round(self.t_stat, 2) if np.isfinite(self.t_stat) else None,
            "t_needed": NOISE_T,
            "seconds": round(self.seconds, 1),
            "projected_seconds": _seconds(self.projected_seconds),
            "budget_seconds": _seconds(self.budget_seconds),
            **({"reason": self.reason} if self.reason else {}),
        }


def _seconds(value: float) -> float | None:
    return round(float(value), 1) if np.isfinite(value) else None


def unaffordable(
    model: str, sample: list[str], series: int, expected: float, budget: float
) -> Screen:
    """A screen decided by cost alone: the model's expected validation on every series
    (``forecasting.evaluation.costs``) is far beyond what the cheap candidates took."""
    nan = float("nan")
    return Screen(model, False, tuple(sample), nan, nan, "", "", nan, 0.0, series, expected, budget)


def describe_screen(screen: dict) -> str:
    """A planner's sentence for a screen (``Screen.to_dict``): what the sample said, in
    plain words first, then its figures (validation error: mean of MASE and RMSSE)."""
    if screen.get("reason"):
        return f"{screen['model']} left out: {screen['reason']}"
    t = screen["t_stat"]
    sample = f"on a sample of {screen['sample_series']} of {screen['series']} series"
    projected, budget = screen.get("projected_seconds"), screen.get("budget_seconds")
    costly = (
        projected is not None
        and budget is not None
        and projected > max(AFFORDABLE * budget, MIN_BUDGET_SECONDS)
    )
    if screen["kept"]:
        said = f"kept: {sample} it helped series after series, so it was validated on all"
    elif screen.get("seconds") == 0 and costly:
        return (
            f"{screen['model']} left out: on every series it would cost about {projected:.0f}s, "
            f"far more than the {budget:.0f}s all cheap models took together, so not even a "
            "sample was fitted"
        )
    elif costly and t is not None and t >= screen["t_needed"]:
        said = (
            f"left out: {sample} it helped, but on every series it would cost about "
            f"{projected:.0f}s, more than the {budget:.0f}s all cheap models took together"
        )
    elif screen["with_model"] >= screen["without_model"]:
        said = f"left out: {sample} it did no better than the cheap models, so it was not fitted"
    else:
        said = (
            f"left out: {sample} it helped on average, but not consistently enough across "
            "series to be sure, so it was not fitted on the rest, to save time"
        )
    figures = (
        f"validation error on the sample with it {screen['with_model']:.3f} (best: "
        f"{screen['best_with']}), without it {screen['without_model']:.3f} (best: "
        f"{screen['best_without']}); "
        f"paired t {'n/a' if t is None else f'{t:.1f}'}, {screen['t_needed']:g} needed; "
        f"the sample took {screen['seconds']:.1f}s"
    )
    return f"{screen['model']} {said} ({figures})"


def stratified_sample(
    profile: pd.DataFrame, volume: pd.Series, candidates: pd.Index, size: int, seed: int = 0
) -> list[str]:
    """``size`` of the ``candidates`` series, each demand class x volume band in proportion
    to its share (at least one of each), the same ones for the same data."""
    if len(candidates) <= size:
        return list(candidates)
    classes = profile["demand_class"].reindex(candidates)
    ranks = volume.reindex(candidates).rank(method="first", pct=True)
    band = np.minimum((ranks.to_numpy() * VOLUME_BANDS).astype(int), VOLUME_BANDS - 1)
    strata = pd.Series(list(zip(classes, band, strict=True)), index=candidates)
    counts = strata.value_counts()
    share = np.maximum(1, np.floor(counts * size / len(candidates)).astype(int))
    while share.sum() > size:  # more strata than places: trim the largest allocations
        share[share.idxmax()] -= 1
    rest = (counts * size / len(candidates) - share).sort_values(ascending=False)
    for stratum in rest.index[: size - int(share.sum())]:
        share[stratum] += 1
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for stratum, n in share.items():
        if n <= 0:
            continue
        members = strata.index[strata == stratum].to_numpy()
        chosen += list(rng.choice(members, size=min(int(n), len(members)), replace=False))
    return sorted(chosen, key=list(candidates).index)


def judge(
    model: str,
    cvs: dict[str, pd.DataFrame],
    scales: pd.DataFrame,
    sample: list[str],
    seconds: float,
    series: int,
    max_ensemble: int = MAX_ENSEMBLE,
    projected_seconds: float = float("nan"),
    budget_seconds: float = float("nan"),
) -> Screen:
    """Whether ``model`` beats the cheap candidates on the sample beyond noise, at a cost
    it can afford (``projected_seconds`` against ``budget_seconds``).

    ``cvs`` holds the validation forecasts of the cheap models and of ``model``,
    at least on the sample's series.
    """
    on_sample = {name: cv.loc[cv["unique_id"].isin(sample)] for name, cv in cvs.items() if len(cv)}
    if model not in on_sample or on_sample[model].empty:
        return Screen(model, False, tuple(sample), np.nan, np.nan, "", "", np.nan, seconds, series)
    wide, members = candidate_table(on_sample, scales, max_ensemble)
    scores = pd.DataFrame({name: validation_score(wide, scales, name) for name in members})
    means = scores.mean()
    with_it = [c for c in members if model in members[c]]
    without = [c for c in members if model not in members[c]]
    best_with = means[with_it].idxmin()
    best_without = means[without].idxmin() if without else best_with
    t = paired_t(scores[best_without], scores[best_with])
    cost = {"projected_seconds": projected_seconds, "budget_seconds": budget_seconds}
    screen = Screen(
        model, False, tuple(sample), float(means[best_with]), float(means[best_without]),
        best_with, best_without, float(t), seconds, series, **cost,
    )  # fmt: skip
    kept = bool(np.isfinite(t) and t >= NOISE_T and screen.affordable)
    return replace(screen, kept=kept)
