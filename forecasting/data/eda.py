"""Exploratory statistics of a long frame: what the history looks like before any model.

Pure computations (numbers and small frames); turning them into figures and
files is the pipeline's job. For many series the aggregate is analysed with
the few largest series, which is where an analyst looks first.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.stattools import acf, adfuller, kpss

from forecasting.data.frequency import default_horizon
from forecasting.data.ladder import profile_series
from forecasting.data.schema import without_rows
from forecasting.data.spec import DataSpec

TOTAL = "total"
#: the columns of the outliers table
OUTLIER_COLUMNS = ["unique_id", "ds", "y"]


@dataclass
class SeriesProfile:
    """Statistics of one series (or the aggregate)."""

    stats: dict
    #: ``ds, y, trend, seasonal, resid`` (trend/seasonal/resid NaN when too short for STL)
    decomposition: pd.DataFrame
    acf: list[float]
    #: mean by weekday (daily data) and by month
    profiles: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class EdaReport:
    overview: dict
    aggregate: SeriesProfile
    top: dict[str, SeriesProfile]
    #: per-series statistics, one row per series
    series_table: pd.DataFrame
    drivers: dict[str, dict[str, float]]
    #: outlier points of the aggregate's contributing series (``unique_id, ds, y``)
    outliers: pd.DataFrame


#: driver and sales pairs kept for the correlations: past this, every other one is dropped
CORRELATION_ROWS = 2_000_000


def analyse(
    frame: pd.DataFrame,
    spec: DataSpec,
    outliers: pd.DataFrame | None = None,
    top: int = 5,
    cleaning: dict | None = None,
) -> EdaReport:
    return analyse_parts([frame], spec, outliers, top, cleaning)


def analyse_parts(
    parts: Iterable[pd.DataFrame],
    spec: DataSpec,
    outliers: pd.DataFrame | None = None,
    top: int = 5,
    cleaning: dict | None = None,
) -> EdaReport:
    """``analyse`` of the frame that ``parts`` (partitions of whole series) make together,
    holding one part at a time: every figure is a sum, an extreme or a per-series row
    over the parts, the largest series are kept as they pass, and the driver
    correlations are read from at most ``CORRELATION_ROWS`` to twice that many rows,
    evenly thinned (a catalogue's stored version is read this way, issue 30)."""
    m = spec.season_length
    summary = _Summary(spec.exog)
    tables, demands = [], []
    largest = pd.DataFrame(columns=["unique_id", "ds", "y"])
    for part in parts:
        part = part.sort_values(["unique_id", "ds"])
        summary.add(part)
        tables.append(_series_table(part))
        demands.append(profile_series(part, default_horizon(spec.freq), m))
        largest = _largest([largest, part[["unique_id", "ds", "y"]]], top)
        if outliers is None:  # none were found: an empty table of the frame's columns
            outliers = without_rows(part)[OUTLIER_COLUMNS]
    table = pd.concat(tables)
    demand = pd.concat(demands)
    table["share_of_total"] = table["total"] / max(float(table["total"].sum()), 1e-12)
    table = table.join(demand[["adi", "cv2", "demand_class", "ladder_step"]])
    table["adi"] = table["adi"].replace(np.inf, np.nan)
    table = table.sort_values("total", ascending=False).reset_index()
    per_series = dict(iter(largest.groupby("unique_id", sort=False)))
    ids = table["unique_id"]
    top_ids = list(ids[ids.isin(per_series)].head(top)) if len(table) > 1 else []
    overview = summary.overview() | {
        "series": len(table),
        "freq": spec.freq.alias,
        "freq_name": spec.freq.name,
        "season_length": m,
        "outliers": len(outliers),
        "gaps_filled": (cleaning or {}).get("gaps_filled", 0),
        "gap_policy": (cleaning or {}).get("gap_policy"),
        "gap_rule": (cleaning or {}).get("gap_rule", ""),
        "top_series_share": float(table["share_of_total"].head(top).sum()),
        "demand_classes": demand["demand_class"].value_counts().to_dict(),
        "ladder": demand["ladder_step"].value_counts().to_dict(),
    }
    pairs = summary.pairs()
    if spec.exog:  # fewer than ``rows`` past ``CORRELATION_ROWS``: the page says so
        overview["correlation_rows"] = len(pairs)
    return EdaReport(
        overview=overview,
        aggregate=profile(summary.total.sort_index(), spec),
        top={uid: profile(per_series[uid].set_index("ds")["y"], spec) for uid in top_ids},
        series_table=table,
        drivers=driver_correlations(pairs, spec.exog),
        outliers=outliers,
    )


def _largest(frames: list[pd.DataFrame], top: int) -> pd.DataFrame:
    """The rows of the ``top`` series with the most sales in ``frames`` (whole series)."""
    rows = pd.concat([f for f in frames if len(f)])
    totals = rows.groupby("unique_id", sort=False)["y"].sum().sort_values(ascending=False)
    return rows.loc[rows["unique_id"].isin(totals.index[:top])]


def _series_table(part: pd.DataFrame) -> pd.DataFrame:
    """Per series of ``part``: periods, total, mean, spread, zero share, first and last day."""
    per_series = part.groupby("unique_id", sort=False)
    return pd.DataFrame(
        {
            "periods": per_series.size(),
            "total": per_series["y"].sum(),
            "mean": per_series["y"].mean(),
            "std": per_series["y"].std(),
            "zero_share": per_series["y"].apply(lambda y: float((y == 0).mean())),
            "start": per_series["ds"].min().dt.date.astype(str),
            "end": per_series["ds"].max().dt.date.astype(str),
        }
    )


class _Summary:
    """What the overview, the total's history and the driver correlations need, summed
    over the parts as they pass."""

    def __init__(self, exog: tuple[str, ...]) -> None:
        self.exog = list(exog)
        self.total = pd.Series(dtype=float)
        self.rows = self.zeros = self.negatives = 0
        self.sales = 0.0
        self.start = self.end = None
        self.kept: list[pd.DataFrame] = []
        self.step = 1  # every ``step``-th row of a part is kept for the correlations
        self.kept_rows = 0

    def add(self, part: pd.DataFrame) -> None:
        by_day = part.groupby("ds")["y"].sum()
        self.total = by_day if self.total.empty else self.total.add(by_day, fill_value=0.0)
        y = part["y"]
        self.rows += len(part)
        self.zeros += int((y == 0).sum())
        self.negatives += int((y < 0).sum())
        self.sales += float(y.sum())
        if len(part):
            first, last = part["ds"].min(), part["ds"].max()
            self.start = first if self.start is None else min(self.start, first)
            self.end = last if self.end is None else max(self.end, last)
        if self.exog:
            self._keep(part[["unique_id", *self.exog, "y"]].iloc[:: self.step])

    def _keep(self, pairs: pd.DataFrame) -> None:
        self.kept.append(pairs)
        self.kept_rows += len(pairs)
        while self.kept_rows > 2 * CORRELATION_ROWS:  # thin what is kept, and what comes
            self.kept = [k.iloc[::2] for k in self.kept]
            self.kept_rows = sum(len(k) for k in self.kept)
            self.step *= 2

    def pairs(self) -> pd.DataFrame:
        return (
            pd.concat(self.kept)
            if self.kept
            else pd.DataFrame(columns=["unique_id", *self.exog, "y"])
        )

    def overview(self) -> dict:
        return {
            "rows": self.rows,
            "start": self.start.date().isoformat(),
            "end": self.end.date().isoformat(),
            "total": self.sales,
            "zero_share": self.zeros / max(self.rows, 1),
            "negative_values": self.negatives,
        }


#: the years of history a yearly seasonal strength is measured from
YEARS_FOR_A_YEARLY_SEASON = 3


def profile(y: pd.Series, spec: DataSpec) -> SeriesProfile:
    """Summary, STL strengths, stationarity tests, autocorrelation and calendar profiles."""
    m = spec.season_length
    values = y.to_numpy(float)
    stats = {
        "periods": len(values),
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "min": float(np.min(values)),
        "max": float(np.max(values)),
        "zero_share": float(np.mean(values == 0)),
        "cv": float(np.std(values) / np.mean(values)) if np.mean(values) else None,
    }
    decomposition = pd.DataFrame({"ds": y.index, "y": values})
    if len(values) >= 2 * m and np.std(values) > 0:  # STL needs two full seasons
        # a locally constant season (R's ``stl`` default, s.degree = 0): a local line
        # through each period's few years fitted the first and last years whole, and a
        # stranger read a straight trend and no remainder there on three years of weeks
        fit = STL(values, period=m, robust=True, seasonal_deg=0).fit()
        decomposition["trend"] = fit.trend
        decomposition["seasonal"] = fit.seasonal
        decomposition["resid"] = fit.resid
        stats["trend_strength"] = _strength(fit.resid, fit.trend + fit.resid)
        stats["seasonal_strength"] = _strength(fit.resid, fit.seasonal + fit.resid)
        if m == spec.freq.periods_per_year and len(values) < YEARS_FOR_A_YEARLY_SEASON * m:
            # two years give one difference of each week: promotions and one-off weeks
            # pass for a season, so a yearly strength needs three
            stats["seasonal_strength"] = None
            stats["seasonal_note"] = (
                f"yearly seasonality not measured: {len(values)} periods is under "
                f"{YEARS_FOR_A_YEARLY_SEASON} years"
            )
    else:
        for col in ("trend", "seasonal", "resid"):
            decomposition[col] = np.nan
        stats["trend_strength"] = stats["seasonal_strength"] = None
    stats.update(stationarity(values))
    lags = min(2 * m, len(values) // 2 - 1)
    acf_values = acf(values, nlags=lags, fft=True).tolist() if lags >= 1 and stats["std"] else []
    return SeriesProfile(stats, decomposition, [float(v) for v in acf_values], _calendar(y, spec))


def _strength(resid: np.ndarray, part: np.ndarray) -> float:
    """Hyndman's strength measure: 1 - Var(resid) / Var(component + resid), clipped to 0..1."""
    total = np.var(part)
    return float(max(0.0, 1 - np.var(resid) / total)) if total > 0 else 0.0


def stationarity(values: np.ndarray) -> dict:
    """ADF (null: unit root) and KPSS (null: stationary) p-values and a plain reading."""
    out: dict = {"adf_pvalue": None, "kpss_pvalue": None, "stationary": None}
    if len(values) < 20 or np.std(values) == 0:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationWarning)  # p-value beyond the table
        warnings.simplefilter("ignore", FutureWarning)  # statsmodels 0.15 result-object notice
        out["adf_pvalue"] = float(adfuller(values, autolag="AIC")[1])
        out["kpss_pvalue"] = float(kpss(values, regression="c", nlags="auto")[1])
    adf_says = out["adf_pvalue"] < 0.05
    kpss_says = out["kpss_pvalue"] >= 0.05
    out["stationary"] = (
        "stationary"
        if adf_says and kpss_says
        else "non-stationary"
        if not adf_says and not kpss_says
        else "inconclusive (tests disagree; differencing or detrending may help)"
    )
    return out


def _calendar(y: pd.Series, spec: DataSpec) -> dict[str, dict[str, float]]:
    index = pd.DatetimeIndex(y.index)
    out = {}
    if spec.freq.alias == "D":
        out["weekday"] = {
            day: float(v)
            for day, v in y.groupby(index.day_name())
            .mean()
            .reindex(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
            .dropna()
            .items()
        }
    months = y.groupby(index.month).mean()
    if len(months) > 1:
        out["month"] = {
            pd.Timestamp(2000, k, 1).strftime("%b"): float(v) for k, v in months.items()
        }
    return out


def driver_correlations(frame: pd.DataFrame, exog: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Pearson and Spearman correlation of each driver with the target over all rows, and
    ``within_series``: the median over series of each one's own Pearson correlation (where
    ``unique_id`` is there). Pooled, a price mixes dear and cheap items: a stranger's
    price read +0.18 with sales that fell as it rose, SKU by SKU; and one correlation of
    every series' deviations from its means let the largest sellers speak for all (-0.23
    where the median SKU's was -0.75)."""
    out = {}
    y = frame["y"].astype(float)
    for col in exog:
        x = frame[col].astype(float)
        if x.std() == 0 or y.std() == 0:
            out[col] = {"pearson": None, "spearman": None, "within_series": None}
            continue
        out[col] = {
            "pearson": float(x.corr(y)),
            "spearman": float(x.corr(y, method="spearman")),
            "within_series": _median_own_correlation(frame, col),
        }
    return out


def _median_own_correlation(frame: pd.DataFrame, col: str) -> float | None:
    """The median of each series' Pearson correlation of ``col`` with ``y``, over the
    series where both vary (None without ids, or where none does)."""
    if "unique_id" not in frame:
        return None
    both = frame[["unique_id", col, "y"]].astype({col: float, "y": float}).dropna()
    x, y, by = both[col], both["y"], both["unique_id"]
    # each series' Pearson from its sums, in one grouped pass (not a call per series)
    sums = pd.DataFrame({"x": x, "y": y, "xy": x * y, "xx": x * x, "yy": y * y})
    mean = sums.groupby(by, sort=False).mean()
    cov = mean["xy"] - mean["x"] * mean["y"]
    var_x, var_y = mean["xx"] - mean["x"] ** 2, mean["yy"] - mean["y"] ** 2
    scale = np.sqrt(var_x * var_y)
    varies = (var_x > 1e-12 * (mean["xx"] + 1)) & (var_y > 1e-12 * (mean["yy"] + 1))
    own = (cov / scale).where(varies & (scale > 0)).dropna()
    return float(own.median()) if len(own) else None
