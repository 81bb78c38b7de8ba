"""The model interface: a base class owns validation and output shape.

Subclasses write ``_fit(df)`` and ``_predict(grid)`` only (the sktime
template-method pattern). Per-series models derive from ``LocalForecaster``
and write ``_fit_one``/``_predict_one``; a series whose fit fails falls back
to the seasonal-naive forecast with a warning instead of failing the run.

Every forecast passes a sanity guard: a series whose forecast is non-finite or
leaves its history's range by more than ``DIVERGENCE_FACTOR`` times that range
is replaced, for that series only, by the next step of the ladder (seasonal
naive, or the level of a series shorter than a season) and flagged. One
unstable fit can then never put 5e21 in front of a user.

``predict`` changes nothing in the model (as in scikit-learn and statsforecast):
what it replaced comes back with the forecast, in ``attrs["diverged"]`` (series
whose forecast left its range) and ``attrs["fallbacks"]`` (series whose fit or
forecast failed); ``diagnostics(pred)`` reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend

from forecasting.data.frequency import check_horizon, future_dates
from forecasting.data.positions import grouped_by_series
from forecasting.data.spec import DataSpec
from forecasting.errors import DataError
from forecasting.models.parameters import Parameters, clone
from forecasting.progress import checkpoint

log = logging.getLogger(__name__)

#: a forecast further than this many history ranges outside the history has diverged
DIVERGENCE_FACTOR = 10.0
#: a model whose fit costs more than this per series on a 2-core machine is ``expensive``
#: (Prophet 0.2-0.5 s, SARIMA 0.1-1 s; AutoETS 0.01-0.2 s, the intermittent methods and
#: the global trees well under 0.01 s a series)
EXPENSIVE_SECONDS = 0.1
#: the smoothing models (ETS, Theta) fit on at most this many recent periods: a year of
#: days holds 52 weekly cycles, and a fit on five years of M5 days cost four times as much
SMOOTHING_HISTORY = 365
#: per-series fits go to the workers in this many batches per worker: one task per series
#: cost more in pickling than the fit itself for the cheap models
BATCHES_PER_WORKER = 4


class Forecaster(Parameters):
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
    #: whether a fit costs more than ``EXPENSIVE_SECONDS`` per series: such a model is
    #: validated on a sample of series first, and fitted on the rest only where it wins
    #: there (``forecasting.evaluation.screening``), unless a run names it
    expensive: ClassVar[bool] = False
    #: whether it learns one pattern across series (the global trees): with a single
    #: series it is a local autoregression, and the default set leaves it out
    #: (``TrainOptions.for_panel``)
    learns_across_series: ClassVar[bool] = False
    #: when a fitted model is moved to a longer history (a later validation fold, the
    #: held-out window): ``None`` moves it ``forward`` whatever the growth (a per-series
    #: model's smoothing weights hardly change; statsforecast's ``refit=False``); a share
    #: refits it when the history has grown by more than that since its fit (a global
    #: model learns from every series' newest periods at once)
    refit_growth: ClassVar[float | None] = None
    #: expected seconds of a fit on a 2-core machine (``bench/cost.py``), per series and
    #: per period of a series' history; and what moving forward costs, as a share of a
    #: fit (1: it refits). Only their proportions matter: they pace the progress bar
    series_seconds: ClassVar[float] = 2e-5
    period_seconds: ClassVar[float] = 0.0
    fit_overhead_seconds: ClassVar[float] = 0.0
    forward_share: ClassVar[float] = 1.0
    #: a fit's cost on data with no zero nor negative value, as a multiple of the figures
    positive_factor: ClassVar[float] = 1.0

    def fit(self, df: pd.DataFrame, spec: DataSpec) -> Self:
        df = self._setup(df, spec)
        self._fit(df)
        return self

    def forward(self, df: pd.DataFrame) -> Self:
        """A copy with the fitted parameters moved forward to the history in ``df``.

        As statsforecast's ``forward``: what was estimated (smoothing weights, an
        ARIMA's coefficients, a tree ensemble) is kept, the state (levels, lags,
        scales) is rebuilt from ``df``. A series the model has not seen is fitted.
        Cheaper than a fit wherever the model has something to keep; ``self`` is
        left as it was. Validation folds, the held-out window and production all
        move one fit forward instead of fitting afresh (``forecasting.evaluation.backtest``).
        """
        if not hasattr(self, "spec_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first.")
        moved = clone(self)
        df = moved._setup(df, self.spec_)
        moved._forward(df, self)
        return moved

    def refitted(self, df: pd.DataFrame) -> Self:
        """This model fitted for serving on ``df`` (the held-out window's history, or all of
        it for production), from what validation found: by default afresh, with the same
        parameters. A model whose search is dear may narrow it around what it found."""
        return clone(self).fit(df, self.spec_)

    def moved(self, df: pd.DataFrame) -> Self:
        """This model on the longer history ``df``: moved ``forward``, or fitted afresh
        with the same parameters where ``refit_growth`` says the history grew too much."""
        if self.refit_growth is not None:
            periods = int(df.groupby("unique_id", sort=False).size().max()) if len(df) else 0
            if periods > (1 + self.refit_growth) * getattr(self, "periods_", 0):
                return clone(self).fit(df, self.spec_)
        return self.forward(df)

    def _setup(self, df: pd.DataFrame, spec: DataSpec) -> pd.DataFrame:
        """Check the frame and keep what every model needs to forecast and to fall back."""
        missing = {"unique_id", "ds", "y", *spec.exog} - set(df.columns)
        if missing:
            raise DataError(f"Columns missing for {self.name}: {', '.join(sorted(missing))}.")
        if df["y"].isna().any():
            raise DataError("The target has missing values; clean the data before fitting.")
        df, starts, ends = grouped_by_series(df)
        self.spec_ = spec
        ids = pd.Index(df["unique_id"].to_numpy()[starts], name="unique_id")
        y = df["y"].to_numpy(float)
        self.periods_ = int((ends - starts).max()) if len(df) else 0
        self.last_ds_ = pd.Series(df["ds"].to_numpy()[ends - 1], index=ids, name="ds")
        low = np.minimum.reduceat(y, starts) if len(y) else np.zeros(0)
        high = np.maximum.reduceat(y, starts) if len(y) else np.zeros(0)
        self.nonnegative_ = pd.Series(low >= 0, index=ids, name="y")
        self.bounds_ = pd.DataFrame({"min": low, "max": high}, index=ids)
        keep = 2 * spec.season_length
        self.tails_ = {
            uid: y[max(a, b - keep) : b] for uid, a, b in zip(ids, starts, ends, strict=True)
        }
        self.fallbacks_: dict[str, str] = {}
        return df

    def _forward(self, df: pd.DataFrame, fitted: Forecaster) -> None:
        """Move ``fitted``'s parameters to ``df``; by default there is nothing to keep: fit."""
        self._fit(df)

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast ``h`` periods after each series' last date.

        ``future`` supplies the drivers (``spec.exog``) for those periods; it is
        required when the model was fitted with drivers.
        """
        if not hasattr(self, "spec_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first.")
        check_horizon(h)
        grid = forecast_grid(self.last_ds_, h, self.spec_)
        if self.spec_.exog and self.uses_exog:
            grid = attach_future_exog(grid, future, self.spec_.exog)
        failed: dict[str, str] = {}
        yhat = np.asarray(self._predict(grid, failed), dtype=float)
        if yhat.shape != (len(grid),):
            raise RuntimeError(f"{self.name} returned {yhat.shape} values for {len(grid)} rows.")
        yhat, diverged = self._guard(grid["unique_id"], yhat)
        floor = np.where(self.nonnegative_.reindex(grid["unique_id"]).to_numpy(), 0.0, -np.inf)
        grid["yhat"] = np.maximum(yhat, floor)
        out = grid[["unique_id", "ds", "yhat"]]
        out.attrs = {"diverged": diverged, "fallbacks": {**self.fallbacks_, **failed}}
        return out

    @classmethod
    def fit_seconds(cls, series: int, periods: float, rows: int, season: int = 1) -> float:
        """Expected seconds of a fit to ``series`` series of ``periods`` periods each."""
        periods = cls.fitted_periods(periods, season)
        return cls.fit_overhead_seconds + series * (
            cls.series_seconds + cls.period_seconds * periods
        )

    @classmethod
    def predict_seconds(cls, series: int, h: int) -> float:
        """Expected seconds of a forecast ``h`` periods ahead (most models: next to nothing)."""
        return 0.0

    @classmethod
    def fitted_periods(cls, periods: float, season: int) -> float:
        """The periods of a series a fit reads (a model that caps its history reads fewer)."""
        return periods

    def _guard(self, ids: pd.Series, yhat: np.ndarray) -> tuple[np.ndarray, dict[str, str]]:
        """Replace the forecast of every series that diverged (see the module docstring);
        the replaced series, with why."""
        bounds = self.bounds_.reindex(ids).to_numpy()
        low, high = bounds[:, 0], bounds[:, 1]
        span = np.maximum(high - low, np.maximum(np.abs(high), 1.0) * (high == low))
        with np.errstate(invalid="ignore"):
            outside = ~np.isfinite(yhat) | (yhat < low - DIVERGENCE_FACTOR * span)
            outside |= yhat > high + DIVERGENCE_FACTOR * span
        if not outside.any():
            return yhat, {}
        yhat = yhat.copy()
        diverged: dict[str, str] = {}
        bad = ids.to_numpy()[outside]
        m = self.spec_.season_length
        for uid in pd.unique(bad):
            rows = (ids == uid).to_numpy()
            values = yhat[rows]
            finite = values[np.isfinite(values)]
            worst = "non-finite"
            if len(finite) == len(values):
                worst = f"{finite[np.abs(finite).argmax()]:.3g}"
            diverged[uid] = (
                f"forecast {worst} is outside {DIVERGENCE_FACTOR:g}x the history's range "
                f"[{self.bounds_.at[uid, 'min']:.3g}, {self.bounds_.at[uid, 'max']:.3g}]; "
                "replaced by seasonal naive"
            )
            log.warning("%s diverged on series %s; using seasonal naive", self.name, uid)
            yhat[rows] = seasonal_naive_values(self.tails_[uid], int(rows.sum()), m)
        return yhat, diverged

    def _fit(self, df: pd.DataFrame) -> None:
        raise NotImplementedError

    def _predict(self, grid: pd.DataFrame, failed: dict[str, str]) -> np.ndarray:
        """The forecast for every row of ``grid``; a series whose forecast failed and was
        replaced goes into ``failed`` with the error."""
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
    """A model fitted separately to each series, in parallel (joblib) unless it is cheap.

    Series go to the workers in batches (``BATCHES_PER_WORKER`` per worker), so a
    thousand cheap fits cost a few task round trips, not a thousand.
    """

    #: fit in joblib workers; models that fit in microseconds per series stay in-process
    parallel: ClassVar[bool] = True
    #: whether ``_fit_one``/``_predict_one`` read the dates (else they get the raw array:
    #: a ``DatetimeIndex`` per series costs more than an intermittent fit)
    reads_dates: ClassVar[bool] = True

    def _fit(self, df: pd.DataFrame) -> None:
        self._fit_series(df, {})

    def _forward(self, df: pd.DataFrame, fitted: Forecaster) -> None:
        states = getattr(fitted, "states_", {}) if type(fitted) is type(self) else {}
        self._fit_series(df, states)

    def refitted(self, df: pd.DataFrame) -> Self:
        """Every series refitted from its state by ``_refit_one`` (by default afresh)."""
        if type(self)._refit_one is LocalForecaster._refit_one:
            return super().refitted(df)
        again = clone(self)
        df = again._setup(df, self.spec_)
        again._fit_series(df, getattr(self, "states_", {}), refit=True)
        return again

    def _fit_series(self, df: pd.DataFrame, previous: dict[str, Any], refit: bool = False) -> None:
        """Fit every series of ``df``, or move it forward (``refit``: refit it) from its
        ``previous`` state."""
        cols = list(self.spec_.exog) if self.uses_exog else []
        y = df["y"].to_numpy(float)
        X = df[cols].to_numpy(float) if cols else None
        tasks = [
            (uid, y[a:b], X[a:b] if cols else None, ds, previous.get(uid))
            for uid, a, b, ds in _series_slices(df, self.reads_dates)
        ]
        self.states_ = {}
        batch = partial(_fit_batch, again="_refit_one") if refit else _fit_batch
        for uid, state, error in self._map(batch, tasks):
            self.states_[uid] = state
            if error is not None:
                self._fell_back(uid, error)

    def _predict(self, grid: pd.DataFrame, failed: dict[str, str]) -> np.ndarray:
        cols = list(self.spec_.exog) if self.uses_exog else []
        X = grid[cols].to_numpy(float) if cols else None
        tasks = [
            (uid, self.states_[uid], X[a:b] if cols else None, ds)
            for uid, a, b, ds in _series_slices(grid, self.reads_dates)
        ]
        results = {uid: (values, error) for uid, values, error in self._map(_predict_batch, tasks)}
        out = []
        for uid, _, _, ds in tasks:
            values, error = results[uid]
            if values is None:
                if uid not in self.fallbacks_:
                    failed[uid] = error
                    log.warning("%s failed on %s (%s); seasonal naive", self.name, uid, error)
                values = seasonal_naive_values(self.tails_[uid], len(ds), self.spec_.season_length)
            out.append(values)
        return np.concatenate(out) if out else np.empty(0)

    def _map(self, batch_fn, tasks: list[tuple]) -> Iterator[tuple]:
        """Results of ``batch_fn`` over ``tasks`` in batches: in workers when ``parallel``."""
        worker = self._worker()
        if not self.parallel or len(tasks) < 2:
            for start in range(0, len(tasks), 64):
                checkpoint()  # a cancelled run stops between batches of series
                yield from batch_fn(worker, tasks[start : start + 64])
            return
        backend, n_jobs = get_active_backend()
        workers = max(1, backend.effective_n_jobs(n_jobs))
        size = max(1, -(-len(tasks) // (workers * BATCHES_PER_WORKER)))
        batches = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        for results in Parallel(return_as="generator_unordered")(
            delayed(batch_fn)(worker, batch) for batch in batches
        ):
            checkpoint()
            yield from results

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

    def _forward_one(
        self, state: Any, y: np.ndarray, X: np.ndarray | None, ds: pd.DatetimeIndex
    ) -> Any:
        """The series' fitted parameters on its longer history ``y``; by default a fit."""
        return self._fit_one(y, X, ds)

    def _refit_one(
        self, state: Any, y: np.ndarray, X: np.ndarray | None, ds: pd.DatetimeIndex
    ) -> Any:
        """The series fitted for serving from its validated ``state``; by default a fit."""
        return self._fit_one(y, X, ds)

    def _predict_one(self, state: Any, X: np.ndarray | None, ds: pd.DatetimeIndex) -> np.ndarray:
        raise NotImplementedError


class SmoothingForecaster(LocalForecaster):
    """A per-series smoothing model (ETS, Theta) fitted on the last ``history`` periods
    (``SMOOTHING_HISTORY`` by default); moved forward, it filters the longer series from
    the fit's first period, so its initial states still fit."""

    history: int | None = SMOOTHING_HISTORY
    #: a season longer than this is taken out before the fit and put back after
    #: (``forecasting.models.seasonal_adjustment``); None: the model handles any season
    max_season: ClassVar[int | None] = None

    @classmethod
    def fitted_periods(cls, periods: float, season: int) -> float:
        return min(periods, SMOOTHING_HISTORY)

    def _deseasonalized(self, y: np.ndarray) -> tuple[np.ndarray, Any]:
        """``y`` without a season too long for the model, and the adjustment (or None)."""
        m = self.spec_.season_length
        if self.max_season is None or m <= self.max_season:
            return y, None
        from forecasting.models.seasonal_adjustment import seasonally_adjusted

        return seasonally_adjusted(y, m)

    def _offset(self, n: int) -> int:
        """How many of a series' first periods its fit leaves out."""
        return max(0, n - self.history) if self.history else 0


def season_within_reach(m: int, periods: int, longest: int | None) -> bool:
    """Whether a history of ``periods`` holds the two seasons of length ``m`` (and two
    periods more) a seasonal form needs, for a model that handles seasons up to
    ``longest``. A fit made on a shorter history had no season to choose: moved to a
    history that holds them, it must search again, or a seasonal series keeps a flat
    forecast (48 months validated with 3 yearly folds start from 12)."""
    return 1 < m <= (longest or m) and periods >= 2 * m + 2


def _series_slices(frame: pd.DataFrame, as_index: bool = True) -> Iterator[tuple]:
    """``(unique_id, start, end, dates)`` of each series of a frame whose rows are grouped
    by series (as ``Forecaster._setup`` and ``forecast_grid`` leave them): slicing arrays
    costs far less than a groupby's sub-frames on thousands of series. The dates are a
    ``DatetimeIndex``, or with ``as_index=False`` the plain array."""
    ids = frame["unique_id"].to_numpy()
    if len(ids) == 0:
        return
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    dates = frame["ds"].to_numpy()
    for a, b in zip(starts, ends, strict=True):
        yield ids[a], int(a), int(b), pd.DatetimeIndex(dates[a:b]) if as_index else dates[a:b]


def _fit_batch(
    model: LocalForecaster, tasks: list[tuple], again: str = "_forward_one"
) -> list[tuple]:
    """``(uid, state, error)`` per series: fitted, or continued from its previous state by
    the method ``again`` names (``_forward_one`` moves it, ``_refit_one`` refits it for
    serving); one bad series must not fail the run."""
    out = []
    for uid, y, X, ds, previous in tasks:
        try:
            if previous is None:
                state = model._fit_one(y, X, ds)
            else:
                state = getattr(model, again)(previous, y, X, ds)
            out.append((uid, state, None))
        except Exception as exc:
            out.append((uid, None, f"{type(exc).__name__}: {exc}"[:200]))
    return out


def _predict_batch(model: LocalForecaster, tasks: list[tuple]) -> list[tuple]:
    """``(uid, values, error)`` per series; values None where it failed."""
    out = []
    for uid, state, X, ds in tasks:
        if state is None:
            out.append((uid, None, "fit failed"))
            continue
        try:
            values = np.asarray(model._predict_one(state, X, ds), dtype=float)
            if values.shape != (len(ds),) or not np.isfinite(values).all():
                raise ValueError("non-finite or misshaped forecast")
            out.append((uid, values, None))
        except Exception as exc:
            out.append((uid, None, f"{type(exc).__name__}: {exc}"[:200]))
    return out
