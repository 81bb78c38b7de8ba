"""Every series gets a forecast: a ladder by history, and a demand class per series.

Retail data is mostly slow movers and new launches. What can be fitted to a
series depends on how much history it has, so each series stands on one step
of a ladder:

- ``zero``: it has never sold; the forecast is zero.
- ``new``: fewer than ``NEW_PERIODS`` periods; the forecast is its mean level.
- ``short``: too short for a validation fold of the full horizon; served by the
  model that validates best, on the longer series of its demand class, among
  those that fit short histories (``Forecaster.short_ok``).
- ``long``: everything is fitted, validated and selected.
- ``ended`` (what serves only): its last record is before the file's last period, as
  for a delisted item; it is forecast zero from the file's end, where every series'
  forecast starts (a stranger's totals mixed an item forecast from its own last sale,
  a month earlier, with the others). A backtest still scores such a series on its own
  last periods: a series that stops is not a series that sells nothing.

The demand class is Syntetos and Boylan's (2005): the mean interval between
sales (ADI) and the squared coefficient of variation of the sale sizes (CV²),
cut at 1.32 and 0.49, give smooth, erratic, intermittent and lumpy demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.frequency import UNITS

LADDER_STEPS = ("zero", "new", "short", "long", "ended")
DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "none")
#: a series with fewer periods than this is new: a level is all its history supports
NEW_PERIODS = 4
ADI_CUT = 1.32
CV2_CUT = 0.49

LADDER_TEXT = {
    "zero": "no sales yet: zero forecast",
    "new": "new: {periods} {unit} of history, level forecast",
    "short": "short: {periods} {unit} of history, models that fit short histories",
    "long": "{periods} {unit} of history: every model, validated",
    "ended": "ended: no record in the file's last {trailing} {trailing_unit}, zero forecast "
    "(if it still sells, its rows are missing from the file)",
}

#: a series' last periods without a sale are a likely stop when its own share of zero
#: periods would give as long a run at the end less often than this
QUIET_CHANCE = 1e-3
#: and the run is at least this long
QUIET_PERIODS = 7


def min_train(h: int, season_length: int) -> int:
    """Periods a series needs before a forecast origin: a season and a horizon's worth."""
    return max(season_length + 1, h)


def profile_series(df: pd.DataFrame, h: int, season_length: int) -> pd.DataFrame:
    """Per series: periods, sales periods, ADI, CV², demand class and ladder step."""
    y = df["y"].to_numpy(float)
    sold = y != 0
    ids = df["unique_id"]
    grouped = pd.DataFrame(
        {"unique_id": ids, "sold": sold, "size": np.where(sold, np.abs(y), np.nan)}
    )
    by = grouped.groupby("unique_id", sort=False)
    out = pd.DataFrame(
        {
            "periods": by.size(),
            "nonzero": by["sold"].sum().astype(int),
            "mean_size": by["size"].mean(),
            "var_size": by["size"].var(ddof=0),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["adi"] = np.where(out["nonzero"] > 0, out["periods"] / out["nonzero"], np.inf)
        out["cv2"] = (out["var_size"] / out["mean_size"] ** 2).fillna(0.0)
    out["zero_share"] = 1 - out["nonzero"] / out["periods"]
    out["demand_class"] = demand_class(out["adi"], out["cv2"], out["nonzero"])
    out["ladder_step"] = ladder_step(out["periods"], out["nonzero"], h, season_length)
    out["whole_season"] = out["periods"] >= season_length
    out["quiet_tail"] = _quiet_tail(grouped, by, out["periods"])
    return out.drop(columns=["mean_size", "var_size"])


def _quiet_tail(rows: pd.DataFrame, by, periods: pd.Series) -> pd.Series:
    """Per series, the periods without a sale at its end (all of them if it never sold)."""
    position = by.cumcount()
    last_sale = position.where(rows["sold"]).groupby(rows["unique_id"], sort=False).max()
    return (periods - 1 - last_sale.reindex(periods.index)).fillna(periods).astype(int)


def quiet_stops(profile: pd.DataFrame) -> pd.Series:
    """The trailing periods without a sale of each series whose own history makes so long a
    run unlikely (less than ``QUIET_CHANCE``, at least ``QUIET_PERIODS``): a delisting or a
    stockout the file wrote as zeros. A stranger's tea, selling 20 a day until it sold
    nothing for 30 days, was forecast at 21 a day without a word. Models read it as any
    history, so the planner is told; a missing row instead marks a series ``ended``."""
    if "quiet_tail" not in profile:
        return pd.Series(dtype=int)
    quiet = profile["quiet_tail"]
    before = (profile["periods"] - quiet).clip(lower=1)
    zero_share = (1 - profile["nonzero"] / before).clip(0, 1)
    with np.errstate(divide="ignore"):
        unlikely = np.log(zero_share) * quiet < np.log(QUIET_CHANCE)
    steps = profile["ladder_step"].isin(["short", "long"])
    return quiet[unlikely & (quiet >= QUIET_PERIODS) & steps]


def demand_class(adi: pd.Series, cv2: pd.Series, nonzero: pd.Series) -> pd.Series:
    """Syntetos-Boylan class from ADI and CV² (``none`` for a series that never sold)."""
    frequent = adi < ADI_CUT
    steady = cv2 < CV2_CUT
    classes = np.select(
        [nonzero == 0, frequent & steady, frequent, steady],
        ["none", "smooth", "erratic", "intermittent"],
        default="lumpy",
    )
    return pd.Series(classes, index=adi.index)


def ladder_step(periods: pd.Series, nonzero: pd.Series, h: int, season_length: int) -> pd.Series:
    """The ladder step of each series from its length (see the module docstring)."""
    long_enough = h + min_train(h, season_length)
    steps = np.select(
        [nonzero == 0, periods < NEW_PERIODS, periods < long_enough],
        ["zero", "new", "short"],
        default="long",
    )
    return pd.Series(steps, index=periods.index)


def describe_step(step: str, periods: int, freq_name: str = "", trailing: int = 0) -> str:
    """A planner's sentence for a series' ladder step ("new: 3 days of history, ...")."""
    unit = UNITS.get(freq_name, "periods")
    return LADDER_TEXT[step].format(
        periods=periods,
        unit=unit[:-1] if periods == 1 else unit,
        trailing=trailing,
        trailing_unit=unit[:-1] if trailing == 1 else unit,
    )


def mark_ended(profile: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """``profile`` with the series whose last record comes before the file's last period
    on the ``ended`` step, and ``trailing``: the file's periods after each series' last
    record. For what serves only (see the module docstring)."""
    last = df.groupby("unique_id", sort=False)["ds"].max()
    return marked_ended(profile, last, np.sort(df["ds"].unique()))


def marked_ended(profile: pd.DataFrame, last: pd.Series, dates: np.ndarray) -> pd.DataFrame:
    """``mark_ended`` from each series' ``last`` record and the file's sorted ``dates``:
    what a catalogue read a partition at a time gives (issue 30)."""
    after = len(dates) - np.searchsorted(dates, last.to_numpy(), side="right")
    out = profile.copy()
    out["trailing"] = pd.Series(after, index=last.index).reindex(out.index).fillna(0).astype(int)
    out.loc[(out["trailing"] > 0) & (out["ladder_step"] != "zero"), "ladder_step"] = "ended"
    return out


def series_table(profile: pd.DataFrame, choice: pd.Series, freq_name: str = "") -> pd.DataFrame:
    """What a planner sees per series: its ladder step in words, demand class, what serves it."""
    table = profile[["ladder_step", "demand_class", "periods", "zero_share", "adi", "cv2"]].copy()
    table["adi"] = table["adi"].replace(np.inf, np.nan).round(3)
    table["cv2"] = table["cv2"].round(3)
    table["zero_share"] = table["zero_share"].round(4)
    table["served_by"] = choice.reindex(table.index)
    trailing = profile["trailing"] if "trailing" in profile else pd.Series(0, profile.index)
    table["ladder_note"] = [
        describe_step(t, p, freq_name, int(a))
        for t, p, a in zip(table["ladder_step"], table["periods"], trailing, strict=True)
    ]
    unit = UNITS.get(freq_name, "periods")
    for uid, quiet in quiet_stops(profile).items():
        table.loc[uid, "ladder_note"] += (
            f"; sold nothing in its last {quiet} {unit}, which its history makes unlikely: "
            f"{QUIET_STOP} Its forecast may show sales again (drop its rows after the last sale "
            "if it stopped)"
        )
    return table.rename_axis("unique_id").reset_index()


#: what a series' note asks where its written zeros look like a stop (``quiet_stops``)
QUIET_STOP = "delisted or out of stock?"


#: the column names of tables stored before the glossary (a profile's ``tier``, the
#: series table's ``step``): readers of older runs and EDA reports rename them
OLD_NAMES = {"tier": "ladder_step", "step": "ladder_note"}


def upgrade_names(table: pd.DataFrame) -> pd.DataFrame:
    """A stored profile or series table under today's column names."""
    old = {a: b for a, b in OLD_NAMES.items() if a in table and b not in table}
    return table.rename(columns=old) if old else table
