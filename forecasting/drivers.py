"""Which drivers (price, promotion, marketing spend...) earn their place in the models.

Every numeric column of the file besides the target is a candidate driver.
A driver is kept when the validation folds say it helps: a fast screening
model (``LinearTrend``: trend, season, holidays and the drivers by ridge) is
cross-validated without drivers and with each candidate alone, and a
candidate is kept when it lowers the validation score (mean of MASE and
RMSSE) by at least ``MIN_GAIN``. Each decision is reported with the two scores,
so a planner sees "price: used (0.41 with, 0.62 without)".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from forecasting.backtest import cross_validate, fold_scales, validation_score
from forecasting.models.linear_trend import LinearTrend
from forecasting.spec import DataSpec

#: the share a driver must lower the validation score by to be kept (1%)
MIN_GAIN = 0.01


@dataclass
class DriverChoice:
    """The drivers kept and, for every candidate, the validation scores with and without."""

    used: tuple[str, ...]
    report: dict[str, dict]

    def describe(self) -> list[str]:
        lines = []
        for name, row in self.report.items():
            if "with" not in row:
                lines.append(f"{name}: used (named)")
                continue
            verdict = "used" if row["used"] else "not used"
            lines.append(
                f"{name}: {verdict} (validation score {row['with']:.3f} with it, "
                f"{row['without']:.3f} without)"
            )
        return lines


def screen_drivers(
    df: pd.DataFrame, spec: DataSpec, h: int, n_windows: int, candidates: tuple[str, ...]
) -> DriverChoice:
    """Keep each candidate whose validation score beats the score without drivers."""
    if not candidates:
        return DriverChoice((), {})
    scales = fold_scales(df, h, n_windows, spec.season_length)

    def score(drivers: tuple[str, ...]) -> float:
        cv = cross_validate(LinearTrend, df, replace(spec, exog=drivers), h, n_windows)
        return float(validation_score(cv, scales).mean()) if len(cv) else float("nan")

    without = score(())
    report = {}
    for name in candidates:
        with_it = score((name,))
        used = bool(with_it < without * (1 - MIN_GAIN))
        report[name] = {"used": used, "with": round(with_it, 4), "without": round(without, 4)}
    used = tuple(name for name in candidates if report[name]["used"])
    return DriverChoice(used, report)
