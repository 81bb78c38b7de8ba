"""What the served model says a price or a promotion does: elasticities and lifts.

A planner trusts a driver's effect when its size and sign look like the market.
For each series the served forecast is asked twice over the next periods, with
everything held at the series' last known values (a price as it was last, no
promotion running) but one driver moved:

- a price 10% up and 10% down: the arc elasticity, the change in log units over
  the change in log price (-2: a 1% rise costs about 2% of the units), each price
  held within the series' history as the forecast holds it;
- a promotion on and off: the lift, units with it over units without (1.5: half
  as many again).

A group's figure is the median over its series whose served forecast uses the
driver (``group_effects``); a series served without it has no effect to report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.evaluation.selection import RULES
from forecasting.models.base import forecast_grid
from forecasting.serving.model import ServingModel

#: the price move the elasticity is measured over (10% up and down)
PRICE_STEP = 0.10


def driver_effects(serving: ServingModel, h: int | None = None) -> pd.DataFrame:
    """Per series and driver with a known role: ``unique_id, driver, role, effect``
    (elasticity for a price, lift for a promotion) and the units it was measured at."""
    spec = serving.spec
    drivers = [d for d in spec.exog if spec.role(d) in ("price", "promotion")]
    columns = ["unique_id", "driver", "role", "effect", "units", "uses_driver"]
    if not drivers or serving.driver_tail is None or not serving.fitted:
        return pd.DataFrame(columns=columns)
    h = h or serving.horizon
    base = _held(serving, h)
    uses = _uses_drivers(serving)
    parts = []
    for name in drivers:
        role = spec.role(name)
        if role == "price":
            cheap = base.assign(**{name: base[name] * (1 - PRICE_STEP)})
            dear = base.assign(**{name: base[name] * (1 + PRICE_STEP)})
            low, high = _units(serving, h, cheap), _units(serving, h, dear)
            with np.errstate(divide="ignore", invalid="ignore"):
                effect = np.log(high / low) / _log_step(serving, name, cheap, dear)
            units = (low + high) / 2
        else:
            off = _units(serving, h, base.assign(**{name: 0.0}))
            on = _units(serving, h, base.assign(**{name: 1.0}))
            with np.errstate(divide="ignore", invalid="ignore"):
                effect = on / off
            units = off
        effect = effect.where(np.isfinite(effect) & (units > 0))
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": effect.index,
                    "driver": name,
                    "role": role,
                    "effect": effect.round(4).to_numpy(),
                    "units": units.round(4).to_numpy(),
                    "uses_driver": effect.index.map(uses).to_numpy(bool),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def group_effects(effects: pd.DataFrame, attributes: pd.DataFrame | None) -> pd.DataFrame:
    """The median effect per driver over all series and over each group
    (``attributes``: ``unique_id`` and one column per attribute), over the series whose
    served forecast uses the driver (``series`` of ``of``; the others' effect is none)."""
    columns = ["group", "driver", "role", "effect", "series", "of"]
    if effects.empty:
        return pd.DataFrame(columns=columns)
    rows = []

    def add(group: str, part: pd.DataFrame) -> None:
        for (driver, role), values in part.groupby(["driver", "role"], sort=False):
            used = values.loc[values["uses_driver"].astype(bool), "effect"].dropna()
            effect = round(float(used.median()), 4) if len(used) else None
            rows.append((group, driver, role, effect, len(used), len(values)))

    add("total", effects)
    if attributes is not None and len(attributes.columns) > 1:
        joined = effects.merge(attributes, on="unique_id", how="left")
        for column in attributes.columns.drop("unique_id"):
            for value, part in joined.groupby(column, sort=True):
                add(f"{column}={value}", part)
    return pd.DataFrame(rows, columns=columns)


def _uses_drivers(serving: ServingModel) -> dict[str, bool]:
    """Per series, whether its served candidate has a member that uses the drivers."""
    uses = {
        cand: any(serving.fitted[m].uses_exog for m in serving.members.get(cand, []))
        for cand in set(serving.choice)
    }
    return {uid: uses[cand] for uid, cand in serving.choice.items()}


def _held(serving: ServingModel, h: int) -> pd.DataFrame:
    """Each modelled series' next ``h`` periods with its drivers held: a price at its last
    value, a promotion off, any other driver at its last value."""
    spec = serving.spec
    modelled = serving.choice.index[~serving.choice.isin(list(RULES.values()))]
    last = serving.driver_tail.groupby("unique_id", sort=False)[list(spec.exog)].last()
    last = last.loc[last.index.intersection(modelled)]
    grid = forecast_grid(serving.last_ds.loc[last.index], h, spec)
    for name in spec.exog:
        held = 0.0 if spec.role(name) == "promotion" else grid["unique_id"].map(last[name])
        grid[name] = held
    return grid


def _log_step(
    serving: ServingModel, name: str, cheap: pd.DataFrame, dear: pd.DataFrame
) -> pd.Series:
    """Per series, the log of the dear price over the cheap one as the forecast takes
    them: each held within the series' history (``ServingModel.within_range``). A last
    price at the highest ever sold was moved up 10% in the ratio but not in the forecast,
    and a stranger's elasticities read half the true ones (median -0.86 against -1.87)."""
    prices = [
        serving.within_range(p).groupby("unique_id", sort=False)[name].first()
        for p in (cheap, dear)
    ]
    with np.errstate(divide="ignore"):
        step = np.log(prices[1] / prices[0])
    return step.where(step > 0)


def _units(serving: ServingModel, h: int, future: pd.DataFrame) -> pd.Series:
    """Per series, the mean served forecast over ``h`` periods with these drivers."""
    series = list(future["unique_id"].unique())
    rows = serving.forecast(h, future, series=series)
    rows = rows.loc[rows["planned"]] if "planned" in rows else rows
    return rows.groupby("unique_id", sort=False)["yhat"].mean().reindex(series)
