"""The model interface: a base class owns validation and output shape.

Subclasses write ``_fit(df)`` and ``_predict(grid)`` only (the sktime
template-method pattern). Per-series models derive from ``LocalForecaster``
and write ``_fit_one``/``_predict_one``; a series whose fit fails falls back
to the seasonal-naive forecast with a warning instead of failing the run.

Every forecast passes a sanity guard: from the first period where a series'
forecast is non-finite or leaves its history's range by more than
``DIVERGENCE_FACTOR`` times that range, that series is forecast by the next step
of the ladder (seasonal naive, or the level of a series shorter than a season)
and flagged. One unstable fit can then never put 5e21 in front of a user. The
guard looks no further back than the period it replaces, so a forecast of ``h``
periods is the first ``h`` of any longer one: the year ahead a run stores and
the 28 days a page asks for never disagree on the days they share.

``predict`` changes nothing in the model (as in scikit-learn and statsforecast):
what it replaced comes back with the forecast, in ``attrs["diverged"]`` (series
whose forecast left its range) and ``attrs["fallbacks"]`` (series whose fit or
forecast failed); ``diagnostics(pred)`` reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from forecasting.data.frequency import check_horizon, future_dates
from forecasting.data.positions import grouped_by_series
from forecasting.data.spec import DataSpec
from forecasting.errors import DataError
from forecasting.models.parameters import Parameters, clone

log = logging.getLogger(__name__)

#: a forecast further than this many history ranges outside the history has diverged
DIVERGENCE_FACTOR = 10.0
#: a model whose fit costs more than this per series on a 2-core machine is ``expensive``
#: (Prophet 0.2-0.5 s, SARIMA 0.1-1 s; AutoETS 0.01-0.2 s, the intermittent methods and
#: the global trees well under 0.01 s a series)
EXPENSIVE_SECONDS = 0.1


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

    def for_series(self, series: Collection[str]) -> Forecaster:
        """What forecasts ``series`` (this model forecasts every series it was fitted on,
        and the caller keeps the ones it asked for); a model fitted by partition keeps
        only the parts that hold them."""
        return self

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
        # copies: a view would hold every row of ``df`` for as long as the fit lives
        # (16 MB a model for a partition of two million rows, issue 30)
        self.tails_ = {
            uid: y[max(a, b - keep) : b].copy() for uid, a, b in zip(ids, starts, ends, strict=True)
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
        # sales never below zero: a trend that falls there is floored, not diverged
        floor = np.where(self.nonnegative_.reindex(grid["unique_id"]).to_numpy(), 0.0, -np.inf)
        yhat, diverged = self._guard(grid, np.maximum(yhat, floor))
        grid["yhat"] = yhat
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

    def _guard(self, grid: pd.DataFrame, yhat: np.ndarray) -> tuple[np.ndarray, dict[str, str]]:
        """Replace every series' forecast from the first period it diverged (see the module
        docstring); the replaced series, with why."""
        ids = grid["unique_id"]
        bounds = self.bounds_.reindex(ids).to_numpy()
        low, high = bounds[:, 0], bounds[:, 1]
        span = np.maximum(high - low, np.maximum(np.abs(high), 1.0) * (high == low))
        with np.errstate(invalid="ignore"):
            outside = ~np.isfinite(yhat) | (yhat < low - DIVERGENCE_FACTOR * span)
            outside |= yhat > high + DIVERGENCE_FACTOR * span
        if not outside.any():
            return yhat, {}
        # the grid holds every series' h periods in order, one series after the other
        h = len(grid) // ids.nunique()
        replaced = np.maximum.accumulate(outside.reshape(-1, h), axis=1)
        out = yhat.reshape(-1, h).copy()
        series = ids.to_numpy()[::h]
        dates = grid["ds"].to_numpy().reshape(-1, h)
        m = self.spec_.season_length
        diverged: dict[str, str] = {}
        for row in np.flatnonzero(replaced[:, -1]):
            uid, first = series[row], int(replaced[row].argmax())
            value = out[row, first]
            worst = f"{value:.3g}" if np.isfinite(value) else "non-finite"
            diverged[uid] = (
                f"forecast {worst} on {pd.Timestamp(dates[row, first]).date()} is outside "
                f"{DIVERGENCE_FACTOR:g}x the history's range "
                f"[{self.bounds_.at[uid, 'min']:.3g}, {self.bounds_.at[uid, 'max']:.3g}]; "
                "replaced by seasonal naive from there"
            )
            log.warning("%s diverged on series %s; using seasonal naive", self.name, uid)
            out[row, first:] = seasonal_naive_values(self.tails_[uid], h, m)[first:]
        return out.reshape(-1), diverged

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
