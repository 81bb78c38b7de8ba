"""Which drivers (price, promotion, marketing spend...) earn their place in the models.

Every numeric column of the file besides the target is a candidate driver, unless it
can never be one (an identifier, a counter or a calendar key:
``forecasting.data.driver_kinds``). A candidate is kept when the validation folds say it
helps beyond noise: a fast screening model (``LinearTrend``: trend, season, holidays
and the drivers by ridge) is cross-validated without drivers and with each candidate
alone, and the candidate is kept when it lowers the validation score (mean of MASE
and RMSSE) in every fold, series after series, by the rule a model must meet to
leave the default combination (``forecasting.evaluation.selection.beyond_noise``). Each decision
is reported with its figures, so a planner sees "price: used (0.41 with, 0.62
without; paired t 6.3)".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from forecasting.data.spec import DataSpec
from forecasting.evaluation.backtest import cross_validate, fold_scales
from forecasting.evaluation.departures import NOISE_T, beyond_noise, validation_units
from forecasting.models.linear_trend import LinearTrend


@dataclass
class DriverChoice:
    """The drivers kept and, for every candidate, the validation scores with and without."""

    used: tuple[str, ...]
    report: dict[str, dict]

    def describe(self) -> list[str]:
        lines = []
        for name, row in self.report.items():
            if "with" not in row:
                lines.append(f"{name}: used, as you named it (validation did not weigh it)")
                continue
            verdict = "used" if row["used"] else "not used"
            t = row.get("t")
            test = "" if t is None else f"; paired t {t:.1f}, {NOISE_T:g} needed"
            lines.append(
                f"{name}: {verdict} (validation score {row['with']:.3f} with it, "
                f"{row['without']:.3f} without{test})"
            )
        return lines


def screen_drivers(
    df: pd.DataFrame, spec: DataSpec, h: int, n_windows: int, candidates: tuple[str, ...]
) -> DriverChoice:
    """Keep each candidate whose validation beats the validation without drivers beyond
    noise (``beyond_noise``)."""
    if not candidates:
        return DriverChoice((), {})
    scales = fold_scales(df, h, n_windows, spec.season_length)

    def units(drivers: tuple[str, ...]) -> pd.Series:
        cv = cross_validate(LinearTrend, df, replace(spec, exog=drivers), h, n_windows)
        if not len(cv):
            return pd.Series(dtype=float)
        return validation_units(cv, scales, ["yhat"])["yhat"]

    def mean(scores: pd.Series) -> float:
        by_series = scores.groupby(level="unique_id", sort=False).mean()
        return float(by_series.mean()) if len(by_series) else float("nan")

    without = units(())
    report = {}
    for name in candidates:
        with_it = units((name,))
        gains, t, used = beyond_noise(without, with_it) if len(with_it) else ((), None, False)
        report[name] = {
            "used": bool(used),
            "with": round(mean(with_it), 4),
            "without": round(mean(without), 4),
            "t": None if t is None else round(min(float(t), 1e6), 2),
            "fold_gains": [round(g, 4) for g in gains],
        }
    used = tuple(name for name in candidates if report[name]["used"])
    return DriverChoice(used, report)
