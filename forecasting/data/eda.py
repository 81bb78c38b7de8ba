"""Exploratory statistics of a long frame: what the history looks like before any model.

Pure computations (numbers and small frames); turning them into figures and
files is the pipeline's job. For many series the aggregate is analysed with
the few largest series, which is where an analyst looks first.
"""

from __future__ import annotations

import warnings
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


def analyse(
    frame: pd.DataFrame,
    spec: DataSpec,
    outliers: pd.DataFrame | None = None,
    top: int = 5,
    cleaning: dict | None = None,
) -> EdaReport:
    frame = frame.sort_values(["unique_id", "ds"])
    m = spec.season_length
    total = frame.groupby("ds")["y"].sum()
    sizes = frame.groupby("unique_id")["y"].sum().sort_values(ascending=False)
    largest = list(sizes.index[:top]) if len(sizes) > 1 else []
    per_series = frame.groupby("unique_id", sort=False)
    table = pd.DataFrame(
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
    table["share_of_total"] = table["total"] / max(float(table["total"].sum()), 1e-12)
    demand = profile_series(frame, default_horizon(spec.freq), m)
    table = table.join(demand[["adi", "cv2", "demand_class", "ladder_step"]])
    table["adi"] = table["adi"].replace(np.inf, np.nan)
    table = table.sort_values("total", ascending=False).reset_index()
    overview = {
        "series": int(frame["unique_id"].nunique()),
        "rows": len(frame),
        "freq": spec.freq.alias,
        "freq_name": spec.freq.name,
        "season_length": m,
        "start": frame["ds"].min().date().isoformat(),
        "end": frame["ds"].max().date().isoformat(),
        "total": float(frame["y"].sum()),
        "zero_share": float((frame["y"] == 0).mean()),
        "negative_values": int((frame["y"] < 0).sum()),
        "outliers": 0 if outliers is None else len(outliers),
        "gaps_filled": (cleaning or {}).get("gaps_filled", 0),
        "gap_policy": (cleaning or {}).get("gap_policy"),
        "gap_rule": (cleaning or {}).get("gap_rule", ""),
        "top_series_share": float(table["share_of_total"].head(top).sum()),
        "demand_classes": demand["demand_class"].value_counts().to_dict(),
        "ladder": demand["ladder_step"].value_counts().to_dict(),
    }
    return EdaReport(
        overview=overview,
        aggregate=profile(total, spec),
        top={uid: profile(per_series.get_group(uid).set_index("ds")["y"], spec) for uid in largest},
        series_table=table,
        drivers=driver_correlations(frame, spec.exog),
        outliers=without_rows(frame)[OUTLIER_COLUMNS] if outliers is None else outliers,
    )


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
        fit = STL(values, period=m, robust=True).fit()
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
    """Pearson and Spearman correlation of each driver with the target, over all rows."""
    out = {}
    for col in exog:
        x, y = frame[col].astype(float), frame["y"].astype(float)
        if x.std() == 0 or y.std() == 0:
            out[col] = {"pearson": None, "spearman": None}
            continue
        out[col] = {
            "pearson": float(x.corr(y)),
            "spearman": float(x.corr(y, method="spearman")),
        }
    return out
