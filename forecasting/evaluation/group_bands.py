"""Bands for a sum of series (a store, a category, the total), calibrated on the sum.

Adding up the series' bands assumes every series misses in the same direction
at the same time. A store's items rarely do: on a stranger's weekly file of
36 items the total's 80% band was +-360 units around 1,140 while its errors
averaged 36. So the sum is treated as one more series: its validation errors
(the members' errors added up on each fold and period) are scored and turned
into widening conformal bands exactly as a single series' are
(``intervals.conformal_quantiles``), at the scale of the members' naive scales
added up. Whatever correlation the series' errors have is in those sums, so
the band is neither the over-wide sum of bands nor an independence guess.

Members without validation errors (new and never-sold series, short ones, a
run from before this module) keep their own bands, added on top.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from forecasting.evaluation.intervals import LEVELS, band_bounds, conformal_quantiles, extend

#: the name the summed series goes by while it is scored
SUM = "sum"


def validation_errors(table: pd.DataFrame | None, candidates: set[str]) -> pd.DataFrame | None:
    """``unique_id, cutoff, ds`` and actual minus forecast for each candidate validated.

    Kept with the serving model (float32: a few MB for thousands of series)."""
    if table is None or table.empty:
        return None
    columns = sorted(c for c in candidates if c in table.columns)
    if not columns:
        return None
    out = table[["unique_id", "cutoff", "ds"]].reset_index(drop=True)
    actual = table["y"].to_numpy(float)
    for name in columns:
        out[name] = (actual - table[name].to_numpy(float)).astype(np.float32)
    return out


def sum_with_bands(
    rows: pd.DataFrame,
    errors: pd.DataFrame | None,
    scale: pd.Series,
    nonnegative: pd.Series,
    levels: tuple[int, ...] = LEVELS,
) -> pd.DataFrame:
    """Per period the sum of ``rows`` (each series' forecast, bands and ``model``), with
    bands calibrated on the sum's validation errors (summed bands where there are none)."""
    bands = [f"{side}{level}" for level in levels for side in ("lo", "hi")]
    agg = {
        **{col: (col, "sum") for col in ["yhat", *bands]},
        "extrapolated": ("extrapolated", "max"),
        # the share of the series whose plan reached the period
        **({"planned": ("planned", "mean")} if "planned" in rows else {}),
    }
    summed = rows.groupby("ds", sort=True).agg(**agg).reset_index()
    served_by = rows.groupby("unique_id", sort=False)["model"].first()
    if errors is None or len(served_by) < 2:
        return summed
    validated = served_by[
        served_by.isin(errors.columns) & served_by.index.isin(errors["unique_id"])
    ]
    quantiles = _sum_quantiles(errors, validated, scale, levels)
    if len(validated) < 2 or quantiles is None:
        return summed
    rest = rows.loc[~rows["unique_id"].isin(validated.index)]
    scale_sum = float(scale.reindex(validated.index).sum())
    calibrated = [level for level in levels if quantiles[level].notna().all()]
    widths = extend(quantiles[calibrated], np.arange(len(summed))) * scale_sum
    floor = 0.0 if nonnegative.reindex(served_by.index, fill_value=False).all() else -np.inf
    yhat = summed["yhat"].to_numpy(float)
    for j, level in enumerate(calibrated):
        below = _per_period(rest, summed["ds"], rest["yhat"] - rest[f"lo{level}"])
        above = _per_period(rest, summed["ds"], rest[f"hi{level}"] - rest["yhat"])
        low, high = band_bounds(yhat, widths[:, j] + below, widths[:, j] + above, floor)
        summed[f"lo{level}"], summed[f"hi{level}"] = low, high
    # a level the sum's few errors cannot calibrate is the calibrated level below it
    # widened as the members' own bands widen from that level to it (their quantiles are
    # pooled over every series: the tails' shape is known where the sum's is not)
    for inner, outer in pairwise(levels):
        if outer in calibrated or inner not in calibrated:
            continue
        ratio = _member_widths(rows, summed["ds"], outer) / np.maximum(
            _member_widths(rows, summed["ds"], inner), 1e-12
        )
        below = (yhat - summed[f"lo{inner}"].to_numpy(float)) * ratio
        above = (summed[f"hi{inner}"].to_numpy(float) - yhat) * ratio
        summed[f"lo{outer}"], summed[f"hi{outer}"] = band_bounds(yhat, below, above, floor)
    # a period every member is sure of (a closure: zero, band and all) is sure in the sum
    sure = _member_widths(rows, summed["ds"], max(levels)) == 0
    for level in levels:
        summed.loc[sure, f"lo{level}"] = summed.loc[sure, "yhat"]
        summed.loc[sure, f"hi{level}"] = summed.loc[sure, "yhat"]
    return summed


def _member_widths(rows: pd.DataFrame, periods: pd.Series, level: int) -> np.ndarray:
    """The members' bands at ``level`` added up per period: only their ratio is used."""
    return _per_period(rows, periods, rows[f"hi{level}"] - rows[f"lo{level}"])


def _sum_quantiles(
    errors: pd.DataFrame, served_by: pd.Series, scale: pd.Series, levels: tuple[int, ...]
) -> pd.DataFrame | None:
    """Conformal quantiles of the members' validation errors added up per fold and period."""
    rows = errors.loc[errors["unique_id"].isin(served_by.index)]
    if rows.empty:
        return None
    candidate = rows["unique_id"].map(served_by).to_numpy()
    error = np.full(len(rows), np.nan)
    for name in np.unique(candidate):
        mine = candidate == name
        error[mine] = rows[name].to_numpy(float)[mine]
    frame = pd.DataFrame({"cutoff": rows["cutoff"].to_numpy(), "ds": rows["ds"].to_numpy()})
    total = frame.assign(y=error).groupby(["cutoff", "ds"], sort=True)["y"].sum(min_count=1)
    total = total.dropna().reset_index().assign(unique_id=SUM, yhat=0.0)
    scale_sum = float(scale.reindex(served_by.index).sum())
    if total.empty or not scale_sum > 0:
        return None
    quantiles = conformal_quantiles(total, pd.Series({SUM: scale_sum}), "yhat", levels)
    # n errors cover at most n/(n+1) of what comes next: the 95% band of twelve summed
    # errors (four weeks, three folds) was their largest, as narrow as the 80% one
    # (a stranger's category: 80% +-89 and 95% +-101 around 3,127)
    n = len(total)
    for level in levels:
        if n / (n + 1) < level / 100:
            quantiles[level] = np.nan
    return None if quantiles.isna().all().all() else quantiles


def _per_period(rows: pd.DataFrame, periods: pd.Series, values: pd.Series) -> np.ndarray:
    """``values`` of ``rows`` added up per period of ``periods`` (0 where none)."""
    if rows.empty:
        return np.zeros(len(periods))
    per = values.groupby(rows["ds"]).sum()
    return per.reindex(periods).fillna(0.0).to_numpy(float)
