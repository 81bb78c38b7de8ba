"""Rolling-origin splits and cross-validation over the long frame.

A split is counted in periods from each series' own end, so series that end
on different dates are all held out by the same number of periods.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from forecasting.data.ladder import min_train
from forecasting.data.positions import periods_from_end, series_runs
from forecasting.data.spec import DataSpec
from forecasting.evaluation.metrics import naive_scale
from forecasting.models.base import Forecaster


def split(df: pd.DataFrame, back: int, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows older than ``back`` periods from the end, and the ``h`` periods after."""
    pos = periods_from_end(df)
    train = df.loc[pos >= back]
    window = df.loc[(pos < back) & (pos >= back - h)]
    return train, window


def holdout_split(df: pd.DataFrame, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The backtest's split: the last ``h`` periods of every series held out.

    A series with ``h`` periods or fewer keeps its first period for training and
    holds out the rest, so a product launched inside the test window is still
    forecast and scored (from what it had sold by then).
    """
    pos = periods_from_end(df)
    length = df.groupby("unique_id", sort=False)["y"].transform("size").to_numpy()
    held = pos < np.minimum(h, length - 1)
    return df.loc[~held], df.loc[held]


def series_sizes(df: pd.DataFrame) -> pd.Series:
    """Rows per series (from where each series' rows start, when they are together)."""
    bounds = series_runs(df)
    if bounds is None:
        return df.groupby("unique_id", sort=False).size()
    starts, ends = bounds
    return pd.Series(ends - starts, index=df["unique_id"].to_numpy()[starts])


def fold_offsets(h: int, n_windows: int, step: int | None = None) -> list[int]:
    """How far back each validation window starts, oldest first."""
    step = step or h
    return [h + step * k for k in range(n_windows - 1, -1, -1)]


def cross_validate(
    make_model: Callable[[], Forecaster],
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    n_windows: int,
    on_fold: Callable[[int, pd.DataFrame], None] | None = None,
    diverged: dict[str, str] | None = None,
    last: list[Forecaster] | None = None,
) -> pd.DataFrame:
    """Forecast each fold's window from its past: rows ``unique_id, ds, cutoff, y, yhat``.

    A model is fitted once, at the first fold, and moved ``forward`` to each later
    fold's past (statsforecast's ``refit=False``; a series that joins at a later fold
    is fitted there), unless its history grew too much for that
    (``Forecaster.refit_growth``: the global models). ``on_fold`` is called after each
    fold with its forecasts (Optuna reports and prunes there; the pipeline checks for
    cancellation there). Series whose forecast diverged in a fold are added to
    ``diverged``; the model of the last fold is appended to ``last``, so the held-out
    window can move it forward instead of fitting again.
    """
    frames = []
    model: Forecaster | None = None
    for fold, back in enumerate(fold_offsets(h, n_windows)):
        train, window = split(df, back, h)
        sizes = series_sizes(train)
        enough = sizes.index[sizes >= min_train(h, spec.season_length)]
        if len(enough) < len(sizes):
            train = train.loc[train["unique_id"].isin(enough)]
        window = window.loc[window["unique_id"].isin(enough)]
        if train.empty:
            continue
        model = make_model().fit(train, spec) if model is None else model.moved(train)
        future = window if spec.exog else None
        pred = model.predict(h, future)
        if diverged is not None:
            diverged.update(pred.attrs.get("diverged", {}))
        out = window[["unique_id", "ds", "y"]].merge(pred, on=["unique_id", "ds"], how="inner")
        out["cutoff"] = fold
        frames.append(out)
        if on_fold is not None:
            on_fold(fold, out)
    if last is not None and model is not None:
        last.append(model)
    if not frames:  # no series is long enough for a fold (the ladder serves them)
        return pd.DataFrame(columns=["unique_id", "ds", "y", "yhat", "cutoff"])
    return pd.concat(frames, ignore_index=True)


def fold_scales(df: pd.DataFrame, h: int, n_windows: int, season_length: int) -> pd.DataFrame:
    """MASE and RMSSE denominators of each series at each fold, from that fold's past only."""
    rows = []
    pos = periods_from_end(df)
    for fold, back in enumerate(fold_offsets(h, n_windows)):
        past = df.loc[pos >= back]
        for uid, y in past.groupby("unique_id", sort=False)["y"]:
            values = y.to_numpy(float)
            rows.append(
                (uid, fold, naive_scale(values, season_length, 1), naive_scale(values, 1, 2))
            )
    return pd.DataFrame(rows, columns=["unique_id", "cutoff", "abs_scale", "sq_scale"]).set_index(
        ["unique_id", "cutoff"]
    )


def validation_score(cv: pd.DataFrame, scales: pd.DataFrame, column: str = "yhat") -> pd.Series:
    """Per series: the mean over folds of (MASE + RMSSE) / 2. Lower is better."""
    parts = validation_parts(cv, scales, column)
    return ((parts["mase"] + parts["rmsse"]) / 2).groupby(level="unique_id", sort=False).mean()


def validation_metrics(cv: pd.DataFrame, scales: pd.DataFrame, column: str = "yhat") -> dict:
    """Mean validation MASE, RMSSE and their average (the tuning score) over series."""
    parts = validation_parts(cv, scales, column).groupby(level="unique_id", sort=False).mean()
    mase, rmsse = float(parts["mase"].mean()), float(parts["rmsse"].mean())
    return {"mase": mase, "rmsse": rmsse, "score": (mase + rmsse) / 2}


def validation_parts(cv: pd.DataFrame, scales: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per (series, fold): MASE and RMSSE of the fold's forecast."""
    err = cv["y"].to_numpy(float) - cv[column].to_numpy(float)
    frame = pd.DataFrame(
        {"unique_id": cv["unique_id"], "cutoff": cv["cutoff"], "ae": np.abs(err), "se": err**2}
    )
    by_fold = frame.groupby(["unique_id", "cutoff"], sort=False)[["ae", "se"]].mean()
    by_fold = by_fold.join(scales, how="left")
    abs_scale, sq_scale = (by_fold[c].astype(float) for c in ("abs_scale", "sq_scale"))
    return pd.DataFrame(
        {"mase": by_fold["ae"] / abs_scale, "rmsse": np.sqrt(by_fold["se"] / sq_scale)}
    )
