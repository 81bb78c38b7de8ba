"""Features for the global (all-series) models, free of look-ahead by construction.

Series are laid on a right-aligned panel (one row per series, the last
observation of every series in the last column). Every lag feature at column
``t`` is computed from columns strictly before ``t`` with prefix sums, so the
same code builds the training matrix and each step of a recursive forecast.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.data.calendar import calendar_features
from forecasting.data.frequency import Frequency
from forecasting.data.spec import DataSpec


@dataclass(frozen=True)
class LagConfig:
    lags: tuple[int, ...]
    windows: tuple[int, ...]
    seasonal_cycles: int
    season: int = 1

    @property
    def reach(self) -> int:
        """How many past columns a feature can look at."""
        return max(*self.lags, *self.windows, self.seasonal_cycles * self.season) + 1


def lag_config(freq: Frequency) -> LagConfig:
    """Lags and windows per frequency: a few recent periods, the season, a year back."""
    if freq.alias == "D":
        return LagConfig((1, 2, 3, 4, 5, 6, 7, 14, 21, 28, 364), (7, 14, 28, 91), 4, 7)
    if freq.alias.startswith("W"):
        return LagConfig((1, 2, 3, 4, 8, 13, 26, 51, 52, 53), (4, 8, 13, 26), 2, 52)
    return LagConfig((1, 2, 3, 6, 12, 24), (3, 6, 12), 2, 12)


def right_aligned(df: pd.DataFrame, order: pd.Index, columns: list[str]) -> dict[str, np.ndarray]:
    """Pivot long columns to (series x periods) arrays with each series' last row at the right."""
    df = df.set_index("unique_id").loc[order].reset_index()
    sizes = df.groupby("unique_id", sort=False).size().reindex(order).to_numpy()
    width = int(sizes.max())
    row = np.repeat(np.arange(len(order)), sizes)
    col = (width - np.repeat(sizes, sizes)) + df.groupby(
        "unique_id", sort=False
    ).cumcount().to_numpy()
    out = {}
    for name in columns:
        values = df[name].to_numpy()
        if np.issubdtype(values.dtype, np.datetime64):
            arr = np.full((len(order), width), np.datetime64("NaT"), dtype="datetime64[ns]")
        else:
            arr = np.full((len(order), width), np.nan)
        arr[row, col] = values
        out[name] = arr
    return out


def lag_features(values: np.ndarray, cols: np.ndarray, cfg: LagConfig) -> dict[str, np.ndarray]:
    """Lags, rolling means/stds and a seasonal mean at each of ``cols``, from earlier columns."""
    n, width = values.shape
    if len(cols) == 1:
        return _lag_features_at(values, int(cols[0]), cfg)
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    zeros = np.zeros((n, 1))
    csum = np.hstack([zeros, np.cumsum(filled, axis=1)])
    csq = np.hstack([zeros, np.cumsum(filled**2, axis=1)])
    ccount = np.hstack([zeros, np.cumsum(present, axis=1)])
    out: dict[str, np.ndarray] = {}
    for k in cfg.lags:
        src = cols - k
        out[f"lag_{k}"] = np.where(src >= 0, values[:, np.clip(src, 0, width - 1)], np.nan)
    for w in cfg.windows:
        lo = np.clip(cols - w, 0, None)
        count = ccount[:, cols] - ccount[:, lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (csum[:, cols] - csum[:, lo]) / count
            var = (csq[:, cols] - csq[:, lo]) / count - mean**2
        out[f"mean_{w}"] = np.where(count > 0, mean, np.nan)
        out[f"std_{w}"] = np.where(count > 1, np.sqrt(np.clip(var, 0, None)), np.nan)
    m = cfg.season
    seasonal = [
        np.where(cols - c * m >= 0, values[:, np.clip(cols - c * m, 0, width - 1)], np.nan)
        for c in range(1, cfg.seasonal_cycles + 1)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out["seasonal_mean"] = np.nanmean(np.stack(seasonal), axis=0)
    out["lag1_minus_seasonal"] = out["lag_1"] - out["seasonal_mean"]
    return out


def _lag_features_at(values: np.ndarray, col: int, cfg: LagConfig) -> dict[str, np.ndarray]:
    """``lag_features`` at one column (a recursive forecast step) from slices of the
    periods before it: prefix sums over the whole panel cost a year ahead minutes."""
    n = len(values)
    out: dict[str, np.ndarray] = {}
    missing = np.full((n, 1), np.nan)
    for k in cfg.lags:
        out[f"lag_{k}"] = values[:, col - k : col - k + 1] if col - k >= 0 else missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for w in cfg.windows:
            past = values[:, max(col - w, 0) : col]
            count = (~np.isnan(past)).sum(axis=1, keepdims=True)
            mean = np.nanmean(past, axis=1, keepdims=True) if past.shape[1] else missing
            std = np.nanstd(past, axis=1, keepdims=True) if past.shape[1] else missing
            out[f"mean_{w}"] = np.where(count > 0, mean, np.nan)
            out[f"std_{w}"] = np.where(count > 1, std, np.nan)
        m = cfg.season
        seasonal = [
            values[:, col - c * m] if col - c * m >= 0 else np.full(n, np.nan)
            for c in range(1, cfg.seasonal_cycles + 1)
        ]
        out["seasonal_mean"] = np.nanmean(np.stack(seasonal), axis=0)[:, None]
    out["lag1_minus_seasonal"] = out["lag_1"] - out["seasonal_mean"]
    return out


def date_features(dates: np.ndarray, spec: DataSpec) -> dict[str, np.ndarray]:
    """Calendar and holiday features for a matrix of dates (NaT gives NaN)."""
    flat = dates.ravel()
    valid = ~np.isnat(flat)
    uniq, inverse = np.unique(flat[valid], return_inverse=True)
    table = calendar_features(pd.DatetimeIndex(uniq), spec.freq, spec.country)
    out = {}
    for name in table.columns:
        column = np.full(flat.shape, np.nan)
        column[valid] = table[name].to_numpy(float)[inverse]
        out[name] = column.reshape(dates.shape)
    return out
