"""Planned driver values for the forecast periods, and forecasts that use them where given.

A model that learned from a driver (price, promotion) needs the driver's value
for each period it forecasts. Those values are a plan: rows past the last sale
in the file, the ``--future`` file or the what-if panel. For the leading
periods the plan covers for every series, the model with the drivers serves;
past them (or with no plan at all) the same models refitted without the
drivers serve, and the caller says so.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.loading import load_csv
from forecasting.models.base import forecast_grid
from forecasting.serving_model import ServingModel


def planned_steps(plan: pd.DataFrame | None, serving: ServingModel, h: int) -> int:
    """How many leading periods the plan gives every used driver for every series."""
    drivers = list(serving.spec.exog)
    if plan is None or not drivers or plan.empty or not set(drivers) <= set(plan.columns):
        return 0
    grid = forecast_grid(serving.last_ds, h, serving.spec)
    rows = grid.merge(plan[["unique_id", "ds", *drivers]], on=["unique_id", "ds"], how="left")
    known = rows[drivers].notna().all(axis=1)
    # per series, the leading run of known periods; the plan covers the shortest of them
    leading = known.groupby(rows["unique_id"], sort=False).cummin()
    return int(leading.groupby(rows["unique_id"], sort=False).sum().min())


def forecast_with_plan(
    serving: ServingModel,
    h: int,
    plan: pd.DataFrame | None,
    model: str | None = None,
    series: list[str] | None = None,
) -> tuple[pd.DataFrame, int]:
    """The forecast for ``h`` periods, with drivers for the periods the plan covers.

    Returns the forecast and the number of leading periods that used the plan.
    """
    steps = planned_steps(plan, serving, h)
    if steps == 0:
        return serving.forecast(h, None, model=model, series=series), 0
    planned = serving.forecast(steps, plan, model=model, series=series)
    if steps >= h:
        return planned, steps
    rest = serving.forecast(h, None, model=model, series=series)
    rest = rest.loc[rest.groupby("unique_id", sort=False).cumcount() >= steps]
    out = pd.concat([planned, rest], ignore_index=True)
    order = pd.Categorical(out["unique_id"], categories=out["unique_id"].unique(), ordered=True)
    return out.assign(_o=order).sort_values(["_o", "ds"]).drop(columns="_o").reset_index(
        drop=True
    ), steps


def read_plan_csv(
    path: Path, exog: tuple[str, ...], date: str | None = None, ids: list[str] | None = None
) -> pd.DataFrame:
    """Planned driver values for the forecast periods, read like any sales CSV."""
    first = exog[0]
    loaded = load_csv(path, date=date, target=first, ids=ids or None)
    return loaded.frame.rename(columns={"y": first})
