"""The model interface: a base class owns validation and output shape.

Subclasses write ``_fit(df)`` and ``_predict(grid)`` only (the sktime
template-method pattern). Per-series models derive from ``LocalForecaster``
and write ``_fit_one``/``_predict_one``; a series whose fit fails falls back
to the seasonal-naive forecast with a warning instead of failing the run.

Every forecast passes a sanity guard: a series whose forecast is non-finite or
leaves its history's range by more than ``DIVERGENCE_FACTOR`` times that range
is replaced, for that series only, by the next step of the ladder (seasonal
naive, or the level of a series shorter than a season) and flagged in
``diverged_``. One unstable fit can then never put 5e21 in front of a user.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone

from forecasting.errors import DataError
from forecasting.frequency import future_dates
from forecasting.progress import checkpoint
from forecasting.spec import DataSpec

log = logging.getLogger(__name__)

#: a forecast further than this many history ranges outside the history has diverged
DIVERGENCE_FACTOR = 10.0


class Forecaster(BaseEstimator):
    """Fit on a long frame (``unique_id, ds, y`` + drivers); predict ``h`` periods per series."""

    name: ClassVar[str] = ""
    #: whether ``_predict`` reads the drivers of the future periods
    uses_exog: ClassVar[bool] = True
    #: whether it may serve a series too short for a validation fold (the ladder's
    #: ``short`` step): it needs no full season and cannot extrapolate a few points wildly
    short_ok: ClassVar[bool] = False
    #: whether it is itself only on a whole season of history (seasonal naive repeats the
    #: last season; on less it repeats the last period, which is another model)
    needs_whole_season: ClassVar[bool] = False

    def fit(self, df: pd.DataFrame, spec: DataSpec) -> Self:
        missing = {"unique_id", "ds", "y", *spec.exog} - set(df.columns)
        if missing:
            raise DataError(f"Columns missing for {self.name}: {', '.join(sorted(missing))}.")
        if df["y"].isna().any():
            raise DataError("The target has missing values; clean the data before fitting.")
        df = df.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        self.spec_ = spec
        grouped = df.groupby("unique_id", sort=False)
        self.last_ds_ = grouped["ds"].max()
        self.nonnegative_ = grouped["y"].min() >= 0
        self.bounds_ = grouped["y"].agg(["min", "max"])
        keep = 2 * spec.season_length
        self.tails_ = {uid: y.to_numpy(float)[-keep:] for uid, y in grouped["y"]}
        self.fallbacks_: dict[str, str] = {}
        self.diverged_: dict[str, str] = {}
        self._fit(df)
        return self

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast ``h`` periods after each series' last date.

        ``future`` supplies the drivers (``spec.exog``) for those periods; it is
        required when the model was fitted with drivers.
        """
        if not hasattr(self, "spec_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first.")
        if h < 1:
            raise DataError(f"The horizon must be at least 1 period, got {h}.")
        grid = forecast_grid(self.last_ds_, h, self.spec_)
        if self.spec_.exog and self.uses_exog:
            grid = attach_future_exog(grid, future, self.spec_.exog)
        yhat = np.asarray(self._predict(grid), dtype=float)
        if yhat.shape != (len(grid),):
            raise RuntimeError(f"{self.name} returned {yhat.shape} values for {len(grid)} rows.")
        yhat = self._guard(grid["unique_id"], yhat)
        floor = np.where(self.nonnegative_.reindex(grid["unique_id"]).to_numpy(), 0.0, -np.inf)
        grid["yhat"] = np.maximum(yhat, floor)
        return grid[["unique_id", "ds", "yhat"]]

    def _guard(self, ids: pd.Series, yhat: np.ndarray) -> np.ndarray:
        """Replace the forecast of every series that diverged (see the module docstring)."""
        bounds = self.bounds_.reindex(ids).to_numpy()
        low, high = bounds[:, 0], bounds[:, 1]
        span = np.maximum(high - low, np.maximum(np.abs(high), 1.0) * (high == low))
        with np.errstate(invalid="ignore"):
            outside = ~np.isfinite(yhat) | (yhat < low - DIVERGENCE_FACTOR * span)
            outside |= yhat > high + DIVERGENCE_FACTOR * span
        if not outside.any():
            return yhat
        yhat = yhat.copy()
        bad = ids.to_numpy()[outside]
        m = self.spec_.season_length
        for uid in pd.unique(bad):
            rows = (ids == uid).to_numpy()
            if uid not in self.diverged_:
                values = yhat[rows]
                finite = values[np.isfinite(values)]
                worst = (
                    "non-finite"
                    if len(finite) < len(values)
                    else f"{finite[np.abs(finite).argmax()]:.3g}"
                )
                self.diverged_[uid] = (
                    f"forecast {worst} is outside {DIVERGENCE_FACTOR:g}x the history's range "
                    f"[{self.bounds_.at[uid, 'min']:.3g}, {self.bounds_.at[uid, 'max']:.3g}]; "
                    "replaced by seasonal naive"
                )
                log.warning("%s diverged on series %s; using seasonal naive", self.name, uid)
            yhat[rows] = seasonal_naive_values(self.tails_[uid], int(rows.sum()), m)
        return yhat

    def _fit(self, df: pd.DataFrame) -> None:
        raise NotImplementedError

    def _predict(self, grid: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def feature_importance(self) -> pd.Series | None:
        """Importance per input feature, for models that learn from features (else None)."""
        return None

    @staticmethod
    def search_space(trial: Any, spec: DataSpec) -> dict:
        """Optuna search space: suggest and return constructor parameters."""
        return {}

    @classmethod
    def test_params(cls) -> dict:
        """Cheap parameters for the conformance tests."""
        return {}


def forecast_grid(last_ds: pd.Series, h: int, spec: DataSpec) -> pd.DataFrame:
    """Rows ``unique_id, ds`` for the h periods after each series' last date."""
    frames = []
    for last, ids in last_ds.groupby(last_ds, sort=False):
        dates = future_dates(last, h, spec.freq)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": np.repeat(ids.index.to_numpy(), h),
                    "ds": np.tile(dates.to_numpy(), len(ids)),
                }
            )
        )
    grid = pd.concat(frames, ignore_index=True)
    order = pd.Categorical(grid["unique_id"], categories=last_ds.index, ordered=True)
    return grid.assign(_o=order).sort_values(["_o", "ds"]).drop(columns="_o").reset_index(drop=True)


def attach_future_exog(
    grid: pd.DataFrame, future: pd.DataFrame | None, exog: tuple[str, ...]
) -> pd.DataFrame:
    """Join the known-future drivers; every forecast period needs a value for each."""
    if future is None:
        raise DataError(
            f"The model uses the drivers {', '.join(exog)}, so their planned values for the "
            "forecast periods are required. Provide them (one row per series and period)."
        )
    missing = set(exog) - set(future.columns)
    if missing:
        raise DataError(f"Future values are missing for driver(s): {', '.join(sorted(missing))}.")
    cols = ["unique_id", "ds", *exog]
    merged = grid.merge(
        future[cols].drop_duplicates(["unique_id", "ds"]), on=["unique_id", "ds"], how="left"
    )
    holes = merged[list(exog)].isna().any(axis=1)
    if holes.any():
        row = merged.loc[holes].iloc[0]
        raise DataError(
            f"{int(holes.sum())} forecast period(s) have no planned driver values, e.g. series "
            f"{row['unique_id']!r} on {row['ds'].date()}. Supply every driver for every period."
        )
    return merged


def seasonal_naive_values(y: np.ndarray, h: int, season_length: int) -> np.ndarray:
    """Repeat the last season (or the last value when history is shorter than a season)."""
    if len(y) >= season_length:
        last = y[-season_length:]
        return np.resize(last, h) if h > season_length else last[:h].copy()
    return np.full(h, y[-1] if len(y) else 0.0, dtype=float)


class LocalForecaster(Forecaster):
    """A model fitted separately to each series, in parallel (joblib) unless it is cheap."""

    #: fit in joblib workers; models that fit in microseconds per series stay in-process
    parallel: ClassVar[bool] = True

    def _fit(self, df: pd.DataFrame) -> None:
        cols = list(self.spec_.exog) if self.uses_exog else []
        tasks = [
            (uid, g["y"].to_numpy(float), g[cols].to_numpy(float) if cols else None,
             pd.DatetimeIndex(g["ds"]))
            for uid, g in df.groupby("unique_id", sort=False)
        ]  # fmt: skip
        worker = self._worker()
        if self.parallel:
            results = Parallel(return_as="generator_unordered")(
                delayed(_fit_one_safely)(worker, uid, y, X, ds) for uid, y, X, ds in tasks
            )
        else:
            results = (_fit_one_safely(worker, uid, y, X, ds) for uid, y, X, ds in tasks)
        self.states_ = {}
        for uid, state, error in results:
            checkpoint()  # a cancelled run stops between series fits
            self.states_[uid] = state
            if error is not None:
                self._fell_back(uid, error)

    def _predict(self, grid: pd.DataFrame) -> np.ndarray:
        cols = list(self.spec_.exog) if self.uses_exog else []
        tasks = [
            (uid, g[cols].to_numpy(float) if cols else None, pd.DatetimeIndex(g["ds"]))
            for uid, g in grid.groupby("unique_id", sort=False)
        ]
        worker = self._worker()
        if self.parallel:
            results = Parallel()(
                delayed(_predict_one_safely)(worker, self.states_[uid], X, ds)
                for uid, X, ds in tasks
            )
        else:
            results = [
                _predict_one_safely(worker, self.states_[uid], X, ds) for uid, X, ds in tasks
            ]
        out = []
        for (uid, _, ds), (values, error) in zip(tasks, results, strict=True):
            if values is None:
                if uid not in self.fallbacks_:
                    self._fell_back(uid, error)
                values = seasonal_naive_values(self.tails_[uid], len(ds), self.spec_.season_length)
            out.append(values)
        return np.concatenate(out)

    def _worker(self) -> LocalForecaster:
        """A light copy (parameters and spec only) to ship to joblib workers."""
        worker = clone(self)
        worker.spec_ = self.spec_
        return worker

    def _fell_back(self, uid: str, error: str) -> None:
        self.fallbacks_[uid] = error
        log.warning("%s failed on series %s (%s); using seasonal naive", self.name, uid, error)

    def _fit_one(self, y: np.ndarray, X: np.ndarray | None, ds: pd.DatetimeIndex) -> Any:
        raise NotImplementedError

    def _predict_one(self, state: Any, X: np.ndarray | None, ds: pd.DatetimeIndex) -> np.ndarray:
        raise NotImplementedError


def _fit_one_safely(model: LocalForecaster, uid: str, y, X, ds):
    try:
        return uid, model._fit_one(y, X, ds), None
    except Exception as exc:  # one bad series must not fail the run
        return uid, None, f"{type(exc).__name__}: {exc}"[:200]


def _predict_one_safely(model: LocalForecaster, state, X, ds):
    if state is None:
        return None, "fit failed"
    try:
        values = np.asarray(model._predict_one(state, X, ds), dtype=float)
        if values.shape != (len(ds),) or not np.isfinite(values).all():
            raise ValueError("non-finite or misshaped forecast")
        return values, None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:200]
