"""What the global tree models share: one regressor learns from every series at once.

Targets are divided by each series' recent mean level (computed on the
training window only), so one model serves series of any size. Forecasts are
recursive: each step's prediction becomes the next step's lag. The regressors
themselves are in ``forecasting.models.trees``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecasting.models.base import Forecaster
from forecasting.models.features import date_features, lag_config, lag_features, right_aligned

#: with at least this share of zero periods (and no negative sales) the tree models learn a
#: count loss (Tweedie, Poisson) instead of squared error, as the M5 winners did
COUNT_ZERO_SHARE = 0.3
#: the most recent periods of each daily series that become training rows, unless
#: ``max_train_periods`` says otherwise (weekly and monthly series train on all)
DAILY_TRAIN_PERIODS = 730
#: at most this many training rows (series x periods): a catalogue trains on fewer recent
#: periods of every series, so the matrix (4 bytes a value) stays about a gigabyte
TRAIN_ROWS = 8_000_000
#: the least periods of each series kept under ``TRAIN_ROWS`` (a year of days)
MIN_TRAIN_PERIODS = 365
#: the training matrix is built this many rows at a time: the features of a whole
#: catalogue at once held five times the matrix (issue 30)
CHUNK_ROWS = 500_000


class GlobalTreeForecaster(Forecaster):
    """Shared machinery; subclasses say which regressor to build."""

    learns_across_series = True

    #: refitted when the history grew by over a tenth since the fit (Walmart's weekly folds,
    #: 13 of about 100 weeks); moved forward otherwise (M5's 28 of 1,800 days)
    refit_growth = 0.1
    fit_overhead_seconds = 0.63
    #: seconds per training row (at most 730 days of each series)
    period_seconds = 1e-5
    forward_share = 0.02

    @classmethod
    def predict_seconds(cls, series: int, h: int) -> float:
        # recursive: one prediction over every series per step
        return h * (0.004 + 1e-6 * series)

    @classmethod
    def fitted_periods(cls, periods, season):
        return min(periods, DAILY_TRAIN_PERIODS)

    def _regressor(self, n_rows: int):
        raise NotImplementedError

    def _counts(self) -> bool:
        """Whether the training data looks like counts of slow movers (set during fit)."""
        return bool(self.counts_)

    def _fit(self, df: pd.DataFrame) -> None:
        spec = self.spec_
        self.nonnegative_train_ = bool((df["y"] >= 0).all())
        self.counts_ = self.nonnegative_train_ and (df["y"] == 0).mean() >= COUNT_ZERO_SHARE
        self.cfg_ = lag_config(spec.freq)
        self.levels_ = self._attribute_levels(df)
        panel = self._state(df, self.last_ds_.index)
        scaled = panel["y"] / self.scale_[:, None]
        width = scaled.shape[1]
        first = max(1, width - self._train_periods(len(self.order_)))
        X, target = self._training_rows(panel, scaled, np.arange(first, width))
        self.train_rows_ = len(X)
        self.model_ = self._regressor(len(X)).fit(X, target)
        if hasattr(self.model_, "n_jobs"):  # a recursive step predicts a few rows: threads
            self.model_.set_params(n_jobs=1)  # would cost more than they save

    def _training_rows(
        self, panel: dict[str, np.ndarray], scaled: np.ndarray, cols: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The training matrix (float32, as both regressors read it) and its targets, built
        a chunk of whole series at a time; rows in the order of the series, as one build
        over all of them would give."""
        n = len(self.order_)
        per_chunk = max(1, CHUNK_ROWS // max(len(cols), 1))
        X = np.empty((0, 0), dtype=np.float32)
        target = np.empty(n * len(cols))
        filled = 0
        for start in range(0, n, per_chunk):
            rows = slice(start, min(n, start + per_chunk))
            exog = {name: panel[name][rows][:, cols] for name in self.spec_.exog}
            known = self._known(panel["ds"][rows][:, cols], exog, rows)
            block = self._features(scaled[rows], cols, known, rows)
            y = scaled[rows][:, cols]
            keep = ~np.isnan(y) & ~np.isnan(block["lag_1"])
            if start == 0:
                self.feature_names_ = list(block)
                X = np.empty((n * len(cols), len(block)), dtype=np.float32)
            count = int(keep.sum())
            for j, name in enumerate(self.feature_names_):
                X[filled : filled + count, j] = block.pop(name)[keep]
            target[filled : filled + count] = y[keep]
            filled += count
        return X[:filled], target[:filled]

    def _forward(self, df: pd.DataFrame, fitted: Forecaster) -> None:
        """The fitted trees, with lags, scales and codes rebuilt from ``df``."""
        if type(fitted) is not type(self):
            self._fit(df)
            return
        for name in ("nonnegative_train_", "counts_", "cfg_", "levels_", "feature_names_"):
            setattr(self, name, getattr(fitted, name))
        self.model_ = fitted.model_
        self._state(df, fitted.order_)

    def _state(self, df: pd.DataFrame, known_series: pd.Index) -> dict[str, np.ndarray]:
        """Lay ``df`` on the panel and keep what forecasting reads: each series' scale,
        codes (as the fit numbered them; a series or attribute it never saw has none)
        and its last ``reach`` scaled periods."""
        self.order_ = self.last_ds_.index
        panel = right_aligned(df, self.order_, ["y", "ds", *self.spec_.exog])
        values = panel["y"]
        self.scale_ = self._series_scale(values)
        self.series_code_ = _codes(pd.Index(known_series), self.order_)
        first = df.groupby("unique_id", sort=False)[list(self.levels_)].first()
        self.attributes_ = {
            f"attr_{name}": _codes(levels, first[name].reindex(self.order_))
            for name, levels in self.levels_.items()
        }
        self.last_drivers_ = {
            name: pd.DataFrame(panel[name].astype(float))
            .ffill(axis=1)
            .iloc[:, -1]
            .to_numpy()
            .copy()
            for name in self.spec_.exog
        }
        self.usual_price_ = {}
        for name in self.spec_.prices:
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a series with no price
                usual = np.nanmedian(panel[name].astype(float), axis=1)
            self.usual_price_[name] = np.where(np.isfinite(usual) & (usual > 0), usual, 1.0)
        scaled = values / self.scale_[:, None]
        width, reach = values.shape[1], self.cfg_.reach
        self.tail_ = (
            scaled[:, -reach:].copy()  # not a view: it would hold the whole panel
            if width >= reach
            else np.hstack([np.full((len(self.order_), reach - width), np.nan), scaled])
        )
        return panel

    def feature_importance(self) -> pd.Series | None:
        if not hasattr(self, "model_"):
            return None
        values = np.asarray(self.model_.feature_importances_, dtype=float)
        return pd.Series(values, index=self.feature_names_, name="importance").sort_values(
            ascending=False
        )

    def _attribute_levels(self, df: pd.DataFrame) -> dict[str, pd.Index]:
        """The values of each series attribute (store, department...) the fit numbers."""
        names = [a for a in self.spec_.attributes if a in df.columns]
        return {name: pd.Index(pd.unique(df[name].dropna())) for name in names}

    def _train_periods(self, series: int) -> int:
        """Periods of each series that become training rows: ``max_train_periods`` if set,
        else two years of days (all weeks and months), fewer where ``TRAIN_ROWS`` binds."""
        if self.max_train_periods:
            return int(self.max_train_periods)
        periods = DAILY_TRAIN_PERIODS if self.spec_.freq.name == "daily" else 10_000
        return min(periods, max(MIN_TRAIN_PERIODS, TRAIN_ROWS // max(series, 1)))

    def _signs(self) -> list[int]:
        """Per feature, the sign its effect must have: a price's -1, a promotion's +1.

        The constraint holds for the period the driver is planned for. A recursive
        forecast reads its own earlier steps as lags, whose effect is left free (a week
        after a promotion may sell less, as shoppers stocked up), so later periods can
        move a little the other way; the horizon's total follows the sign."""
        return [self.spec_.effect_sign(name) for name in self.feature_names_]

    def _series_scale(self, values: np.ndarray) -> np.ndarray:
        weeks = 4 if self.spec_.freq.name == "daily" else 1  # a daily series: four weeks
        window = weeks * self.spec_.season_length
        recent = np.abs(values[:, -window:])
        with np.errstate(invalid="ignore"):
            scale = np.nanmean(recent, axis=1)
        return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)

    def _known(
        self, dates: np.ndarray, exog: dict[str, np.ndarray], rows: slice = slice(None)
    ) -> dict[str, np.ndarray]:
        """Features known in advance for a (series x period) block: calendar, holidays,
        drivers. A price enters relative to the series' usual price (its median), so one
        model learns how much a 10% rise costs from series priced 2 and 20 alike."""
        relative = {
            name: values / self.usual_price_[name][rows, None]
            for name, values in exog.items()
            if name in self.spec_.prices
        }
        return date_features(dates, self.spec_) | exog | relative

    def _features(
        self,
        scaled: np.ndarray,
        cols: np.ndarray,
        known: dict[str, np.ndarray],
        rows: slice = slice(None),
    ) -> dict[str, np.ndarray]:
        """Every feature at ``cols`` of the series in ``rows`` (``scaled`` holds theirs)."""
        block = lag_features(scaled, cols, self.cfg_) | known
        shape = (len(scaled), len(cols))
        codes = getattr(self, "series_code_", None)  # models saved before codes were kept
        codes = np.arange(len(self.order_), dtype=float) if codes is None else codes
        block["series"] = np.broadcast_to(codes[rows, None], shape)
        block["log_scale"] = np.broadcast_to(np.log1p(self.scale_)[rows, None], shape)
        for name, codes in self.attributes_.items():
            block[name] = np.broadcast_to(codes[rows, None], shape)
        return block

    def _predict(self, grid: pd.DataFrame, failed: dict[str, str]) -> np.ndarray:
        n = len(self.order_)
        h = len(grid) // n
        dates = grid["ds"].to_numpy().reshape(n, h)
        exog = {name: grid[name].to_numpy(float).reshape(n, h) for name in self.spec_.exog}
        known = self._known(dates, exog)  # once for all steps: only the lags change per step
        signed = [name for name in self.spec_.exog if self.spec_.effect_sign(name)]
        path = self._known(dates, self._held(exog, signed)) if signed else known
        planned = [self.feature_names_.index(name) for name in signed]
        reach = self.tail_.shape[1]
        values = np.hstack([self.tail_, np.full((n, h), np.nan)])
        out = np.empty((n, h))
        for step in range(h):
            # the last ``reach`` periods are all a step's features read: a window of them,
            # not the whole growing panel (a year ahead was quadratic in the horizon)
            window = values[:, step : reach + step + 1]
            block = self._features(
                window, np.array([reach]), {k: v[:, step : step + 1] for k, v in path.items()}
            )
            X = np.column_stack([block[name][:, 0] for name in self.feature_names_])
            values[:, reach + step] = self.model_.predict(X)
            if planned:  # this period's own prices and promotions, on the held path's lags
                for j, name in zip(planned, signed, strict=True):
                    X[:, j] = known[name][:, step]
                out[:, step] = self.model_.predict(X)
            else:
                out[:, step] = values[:, reach + step]
        return (out * self.scale_[:, None]).ravel()

    def _held(self, exog: dict[str, np.ndarray], signed: list[str]) -> dict[str, np.ndarray]:
        """The drivers with the signed ones held: a price at its last value, a promotion
        off. The recursion's lags follow this path, so a period's forecast moves with its
        own price and promotion only, and always the way their signs say (a promotion in
        one week never lowers the next through the lags)."""
        held = dict(exog)
        for name in signed:
            shape = exog[name].shape
            if self.spec_.role(name) == "price":
                held[name] = np.broadcast_to(self.last_drivers_[name][:, None], shape).copy()
            else:
                held[name] = np.zeros(shape)
        return held


def _codes(levels: pd.Index, values) -> np.ndarray:
    """Position of each value in ``levels`` as a float; NaN for a value not in it."""
    codes = levels.get_indexer(pd.Index(values)).astype(float)
    codes[codes < 0] = np.nan
    return codes
