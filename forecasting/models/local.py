"""Models fitted separately to each series: in batches, in parallel unless they are cheap,
each series falling back to seasonal naive alone when its own fit fails."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend

from forecasting.models.base import Forecaster, seasonal_naive_values
from forecasting.models.parameters import clone
from forecasting.progress import checkpoint

log = logging.getLogger(__name__)

#: the smoothing models (ETS, Theta) fit on at most this many recent periods: a year of
#: days holds 52 weekly cycles, and a fit on five years of M5 days cost four times as much
SMOOTHING_HISTORY = 365
#: per-series fits go to the workers in this many batches per worker: one task per series
#: cost more in pickling than the fit itself for the cheap models
BATCHES_PER_WORKER = 4


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
