"""Forecast accuracy metrics: plain functions with one signature.

Every metric is ``metric(y, yhat, insample, season_length) -> float`` for one
series: ``y`` and ``yhat`` over the evaluated window, ``insample`` the training
history before it (used by the scaled metrics only). ``evaluate`` applies them
to a long frame of forecasts, one row per series.

MASE is scaled by the in-sample seasonal-naive error (seasonal lag from the
training window), RMSSE by the in-sample one-step naive squared error (as in
the M5 competition). Percentages (MAPE, sMAPE, WAPE, bias) are in percent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

Metric = Callable[[np.ndarray, np.ndarray, np.ndarray, int], float]


def naive_scale(insample: np.ndarray, lag: int, power: int) -> float:
    """Mean in-sample naive error at ``lag``; falls back to lag 1, then to the level."""
    for step in (lag, 1):
        if len(insample) > step:
            diffs = np.abs(insample[step:] - insample[:-step]) ** power
            value = float(np.mean(diffs))
            if value > 0:
                return value
    level = float(np.mean(np.abs(insample) ** power)) if len(insample) else 0.0
    return level if level > 0 else 1.0


def mae(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    return float(np.mean(np.abs(y - yhat)))


def rmse(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    return float(np.sqrt(np.mean((y - yhat) ** 2)))


def mape(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    """Mean absolute percentage error over the periods with non-zero actuals."""
    nonzero = y != 0
    if not nonzero.any():
        return float("nan")
    return float(np.mean(np.abs((y[nonzero] - yhat[nonzero]) / y[nonzero])) * 100)


def smape(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    """Symmetric MAPE (0..200); a period where both are zero counts as no error."""
    denom = np.abs(y) + np.abs(yhat)
    ratio = np.divide(
        2 * np.abs(y - yhat), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0
    )
    return float(np.mean(ratio) * 100)


def wape(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    total = float(np.sum(np.abs(y)))
    return float(np.sum(np.abs(y - yhat)) / total * 100) if total > 0 else float("nan")


def bias(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    """Over- (positive) or under-forecast as a percentage of the actual volume."""
    total = float(np.sum(np.abs(y)))
    return float(np.sum(yhat - y) / total * 100) if total > 0 else float("nan")


def mase(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    return float(np.mean(np.abs(y - yhat)) / naive_scale(insample, season_length, 1))


def rmsse(y: np.ndarray, yhat: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    return float(np.sqrt(np.mean((y - yhat) ** 2) / naive_scale(insample, 1, 2)))


METRICS: dict[str, Metric] = {
    "mase": mase,
    "rmsse": rmsse,
    "wape": wape,
    "smape": smape,
    "mape": mape,
    "mae": mae,
    "rmse": rmse,
    "bias": bias,
}
#: the order every table of scores shows them in
METRIC_NAMES = tuple(METRICS)


def evaluate(
    forecasts: pd.DataFrame,
    history: pd.DataFrame | None,
    models: Iterable[str],
    season_length: int,
    metrics: dict[str, Metric] | None = None,
    scales: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-series metrics: one row per (unique_id, model) with a column per metric.

    ``forecasts`` holds ``unique_id, ds, y`` and one column per model; ``history``
    the training rows before the evaluated window (``unique_id, ds, y``), or, for the
    default metrics, ``scales`` (``naive_scales`` of it, read a partition at a time).
    """
    models = list(models)
    if metrics is None or metrics is METRICS:
        if scales is None:
            scales = naive_scales(history, season_length)
        return _evaluate_default(forecasts, scales, models)
    insample = {uid: g.to_numpy() for uid, g in history.groupby("unique_id", sort=False)["y"]}
    rows = []
    for uid, window in forecasts.groupby("unique_id", sort=False):
        past = insample.get(uid, np.array([]))
        y = window["y"].to_numpy(dtype=float)
        for model in models:
            yhat = window[model].to_numpy(dtype=float)
            row = {"unique_id": uid, "model": model}
            row.update({name: fn(y, yhat, past, season_length) for name, fn in metrics.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def naive_scales(history: pd.DataFrame, season_length: int) -> pd.DataFrame:
    """Per series (the index) what MASE and RMSSE divide by: ``abs``, the in-sample
    seasonal naive's mean absolute error, and ``sq``, the naive's mean squared error."""
    scales = {
        uid: (naive_scale(v, season_length, 1), naive_scale(v, 1, 2))
        for uid, g in history.groupby("unique_id", sort=False)["y"]
        for v in (g.to_numpy(float),)
    }
    return pd.DataFrame.from_dict(scales, orient="index", columns=["abs", "sq"], dtype=float)


def _evaluate_default(
    forecasts: pd.DataFrame, scales: pd.DataFrame, models: list[str]
) -> pd.DataFrame:
    """``METRICS`` for every series and model in grouped array passes: the same numbers as
    the functions one series at a time (``tests/unit/test_metrics.py``), a hundred times faster on
    thousands of series."""
    ids = pd.Index(forecasts["unique_id"].unique())
    # a series without history divides by 1, as naive_scale of nothing does
    abs_scale = scales["abs"].reindex(ids).fillna(1.0).to_numpy()
    sq_scale = scales["sq"].reindex(ids).fillna(1.0).to_numpy()
    key = pd.Categorical(forecasts["unique_id"], categories=ids)
    y = forecasts["y"].to_numpy(float)
    nonzero = y != 0
    volume = pd.Series(np.abs(y)).groupby(key, observed=False).sum().to_numpy()
    parts = []
    for model in models:
        yhat = forecasts[model].to_numpy(float)
        err = y - yhat
        denom = np.abs(y) + np.abs(yhat)
        ratio = np.divide(2 * np.abs(err), denom, out=np.zeros_like(denom), where=denom > 0)
        pct = np.where(nonzero, np.abs(err) / np.where(nonzero, y, 1.0), np.nan)
        frame = pd.DataFrame(
            {"ae": np.abs(err), "se": err**2, "over": -err, "ratio": ratio, "pct": pct}
        ).groupby(key, observed=False)
        means, sums = frame.mean(), frame.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            wape_, bias_ = (sums[c].to_numpy() / volume * 100 for c in ("ae", "over"))
            parts.append(
                pd.DataFrame(
                    {
                        "unique_id": ids,
                        "model": model,
                        "mase": means["ae"].to_numpy() / abs_scale,
                        "rmsse": np.sqrt(means["se"].to_numpy() / sq_scale),
                        "wape": np.where(volume > 0, wape_, np.nan),
                        "smape": means["ratio"].to_numpy() * 100,
                        "mape": means["pct"].to_numpy() * 100,
                        "mae": means["ae"].to_numpy(),
                        "rmse": np.sqrt(means["se"].to_numpy()),
                        "bias": np.where(volume > 0, bias_, np.nan),
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    order = np.argsort(np.tile(np.arange(len(ids)), len(models)), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def summarize(per_series: pd.DataFrame, forecasts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Overall metrics per model: the mean over series; WAPE and bias pooled over all series."""
    summary = per_series.drop(columns="unique_id").groupby("model").mean(numeric_only=True)
    if forecasts is not None:
        volume = forecasts["y"].abs().sum()
        for model in summary.index:
            err = forecasts[model] - forecasts["y"]
            summary.loc[model, "wape"] = err.abs().sum() / volume * 100 if volume else np.nan
            summary.loc[model, "bias"] = err.sum() / volume * 100 if volume else np.nan
    return summary
