"""Planned driver values for the forecast periods, series by series, and forecasts that
use them where given.

A model that learned from a driver (price, promotion) needs the driver's value
for each period it forecasts. Those values are a plan: rows past the last sale
in the file, the ``--future`` file or the what-if panel. Each series keeps its own
plan for as many periods as it reaches (its last planned period); another
series' shorter plan takes nothing from it. A hole inside a series' plan (a
period with a driver blank) is filled by the driver's rule (``FILL_RULES``): a
price keeps the price before it (the last one planned, else the series' last
price in the history: one typed price holds until the next), a promotion is
off; a driver without a rule leaves the period to the driver-free choice. Past
its plan a series is served by the candidates chosen for periods without drivers
(``Selection.beyond_plan``), and the answer says which periods were planned and
with which values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.models.base import forecast_grid
from forecasting.serving.model import ServingModel

#: how a blank driver inside a series' plan is filled, by the driver's role
FILL_RULES = {
    "price": "the price before it (the last one planned, else the last in the history)",
    "promotion": "no promotion (0)",
    "other": "no value: the period is forecast without drivers",
}


@dataclass
class PlanUse:
    """What a forecast takes from a plan, per series and period."""

    #: ``unique_id, ds``, the drivers (blank where the period is not planned) and
    #: ``planned``
    rows: pd.DataFrame
    #: ``unique_id, driver, periods, first, rule``: the holes filled inside a plan
    holes: pd.DataFrame
    #: ``unique_id, driver, periods, first, rule``: planned prices beyond the series'
    #: history, forecast at its nearest edge
    outside: pd.DataFrame | None = None

    def periods(self) -> pd.Series:
        """Per series, how many forecast periods are planned."""
        return self.rows.groupby("unique_id", sort=False)["planned"].sum().astype(int)

    def summary(self) -> PlanUse:
        """What a log says of this use: which periods were planned, the holes, the
        clamps (the drivers' values left out)."""
        return PlanUse(self.rows[["unique_id", "planned"]], self.holes, self.outside)

    @classmethod
    def joined(cls, uses: list[PlanUse]) -> PlanUse | None:
        """The uses of disjoint series as one (None for none)."""
        if not uses:
            return None

        def stacked(tables: list[pd.DataFrame | None]) -> pd.DataFrame | None:
            tables = [t for t in tables if t is not None]
            return pd.concat(tables, ignore_index=True) if tables else None

        return cls(
            stacked([u.rows for u in uses]),
            stacked([u.holes for u in uses]),
            stacked([u.outside for u in uses]),
        )

    def without(self, series) -> PlanUse:
        """The same use without ``series`` (those no plan can move: their reach, holes
        and clamps say nothing of their forecast)."""

        def kept(table: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if table is None else table.loc[~table["unique_id"].isin(series)]

        return PlanUse(kept(self.rows), kept(self.holes), kept(self.outside))

    def describe_holes(self, limit: int = 5) -> list[str]:
        """The holes in words: series, driver, periods and the rule that filled them."""
        return _lines(
            self.holes, "blank in {periods} planned period(s) from {first}; filled with", limit
        )

    def describe_outside(self, limit: int = 5) -> list[str]:
        """The planned prices no history supports, and what the forecast used instead."""
        return _lines(self.outside, "in {periods} planned period(s) from {first} is", limit)


def _lines(table: pd.DataFrame | None, middle: str, limit: int) -> list[str]:
    """One sentence per row of a holes-shaped table, the first ``limit`` of them."""
    if table is None:
        return []
    lines = [
        f"{row.unique_id}: {row.driver} "
        + middle.format(periods=row.periods, first=f"{row.first:%Y-%m-%d}")
        + f" {row.rule}"
        for row in table.head(limit).itertuples()
    ]
    if len(table) > limit:
        lines.append(f"... and {len(table) - limit} more")
    return lines


def use_plan(plan: pd.DataFrame | None, serving: ServingModel, h: int) -> PlanUse:
    """Each series' plan over the next ``h`` periods, its holes filled by rule."""
    drivers = list(serving.spec.exog)
    grid = forecast_grid(serving.last_ds, h, serving.spec)
    empty = pd.DataFrame(columns=["unique_id", "driver", "periods", "first", "rule"])
    if not drivers:
        return PlanUse(grid.assign(planned=False), empty)
    given = None
    if plan is not None and not plan.empty:
        cols = ["unique_id", "ds", *[d for d in drivers if d in plan.columns]]
        given = plan[cols].drop_duplicates(["unique_id", "ds"], keep="last")
    rows = grid if given is None else grid.merge(given, on=["unique_id", "ds"], how="left")
    for name in drivers:
        if name not in rows:
            rows[name] = np.nan
    step = rows.groupby("unique_id", sort=False).cumcount()
    anything = rows[drivers].notna().any(axis=1)
    reach = step.where(anything).groupby(rows["unique_id"], sort=False).transform("max")
    inside = (step <= reach).to_numpy()  # up to the series' last planned period
    holes = []
    last_known = _last_values(serving)
    for name in drivers:
        blank = inside & rows[name].isna().to_numpy()
        if not blank.any():
            continue
        role = serving.spec.role(name)
        if role == "price":
            start = rows["unique_id"].map(last_known[name]) if name in last_known else np.nan
            filled = rows[name].where(~(step == 0) | rows[name].notna(), start)
            filled = filled.groupby(rows["unique_id"], sort=False).ffill()
            rows[name] = np.where(inside, filled, rows[name])
        elif role == "promotion":
            rows.loc[blank, name] = 0.0
        holes.append(_holes(rows.loc[blank], name, FILL_RULES[role]))
    planned = inside & rows[drivers].notna().all(axis=1).to_numpy()
    rows.loc[~planned, drivers] = np.nan
    rows["planned"] = planned
    table = pd.concat(holes, ignore_index=True) if holes else empty
    # the rows say the values the forecast used: a price beyond the history at its edge
    # (``outside`` says what was asked)
    outside = _outside(rows, serving)
    return PlanUse(serving.within_range(rows), table, outside)


def _outside(rows: pd.DataFrame, serving: ServingModel) -> pd.DataFrame | None:
    """Planned prices beyond each series' history, and the edge they are held at."""
    limits = serving.driver_range
    if limits is None:
        return None
    parts = []
    for name in serving.spec.prices:
        if f"{name}_min" not in limits or name not in rows:
            continue
        low = rows["unique_id"].map(limits[f"{name}_min"])
        high = rows["unique_id"].map(limits[f"{name}_max"])
        for beyond, edge, word in (
            (rows[name] > high, high, "above"),
            (rows[name] < low, low, "below"),
        ):
            if beyond.any():
                part = rows.loc[beyond].assign(edge=edge[beyond])
                by = part.groupby("unique_id", sort=False)
                out = pd.DataFrame(
                    {"periods": by.size(), "first": by["ds"].min(), "edge": by["edge"].first()}
                ).reset_index()
                out["rule"] = [
                    f"{word} its history's range: forecast at {e:g}, the nearest price it sold at"
                    for e in out["edge"]
                ]
                parts.append(
                    out.assign(driver=name)[["unique_id", "driver", "periods", "first", "rule"]]
                )
    return pd.concat(parts, ignore_index=True) if parts else None


def _holes(blank: pd.DataFrame, driver: str, rule: str) -> pd.DataFrame:
    by = blank.groupby("unique_id", sort=False)["ds"]
    out = pd.DataFrame({"periods": by.size(), "first": by.min()}).reset_index()
    return out.assign(driver=driver, rule=rule)[["unique_id", "driver", "periods", "first", "rule"]]


def _last_values(serving: ServingModel) -> dict[str, pd.Series]:
    """Each driver's last value in each series' history (a price hole's start)."""
    tail = serving.driver_tail
    if tail is None:
        return {}
    last = tail.groupby("unique_id", sort=False).last()
    return {name: last[name] for name in serving.spec.exog if name in last}


def forecast_with_plan(
    serving: ServingModel,
    h: int,
    plan: pd.DataFrame | None,
    model: str | None = None,
    series: list[str] | None = None,
) -> tuple[pd.DataFrame, PlanUse]:
    """The forecast for ``h`` periods: each series with its own plan where it reaches,
    the driver-free choice past it. The rows carry ``planned`` and the driver values
    used (blank where no plan was)."""
    use = use_plan(plan, serving, h)
    drivers = list(serving.spec.exog)
    if not drivers or serving.unplanned is None:
        return _without_split(serving, h, plan, model, series, use), use
    future = use.rows.loc[use.rows["planned"], ["unique_id", "ds", *drivers]]
    rows = serving.forecast(h, future if len(future) else None, model=model, series=series)
    values = use.rows[["unique_id", "ds", *drivers]]
    out = rows.merge(values, on=["unique_id", "ds"], how="left")
    out.attrs = dict(rows.attrs)
    return out, use


def _without_split(
    serving: ServingModel,
    h: int,
    plan: pd.DataFrame | None,
    model: str | None,
    series: list[str] | None,
    use: PlanUse,
) -> pd.DataFrame:
    """A model trained before each series had its own plan: the leading periods every
    series has planned use the drivers, the rest the driver-free twins."""
    leading = use.rows.groupby("unique_id", sort=False)["planned"].cummin()
    by_series = leading.groupby(use.rows["unique_id"], sort=False).sum()
    steps = int(by_series.min()) if len(by_series) else 0
    if steps == 0:
        return serving.forecast(h, None, model=model, series=series)
    future = use.rows.loc[use.rows["planned"], ["unique_id", "ds", *serving.spec.exog]]
    planned = serving.forecast(steps, future, model=model, series=series)
    if steps >= h:
        return planned
    rest = serving.forecast(h, None, model=model, series=series)
    rest = rest.loc[rest.groupby("unique_id", sort=False).cumcount() >= steps]
    out = pd.concat([planned, rest], ignore_index=True)
    order = pd.Categorical(out["unique_id"], categories=out["unique_id"].unique(), ordered=True)
    return out.assign(_o=order).sort_values(["_o", "ds"]).drop(columns="_o").reset_index(drop=True)
