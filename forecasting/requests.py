"""One forecast request and its answer: the same numbers for every caller.

Every reader of a serving model asks through ``answer``: the JSON API, the
pages, the command line and the MLflow pyfunc. The stored forecast answers
when it covers the request (it was made by the same rule when the run ended);
otherwise the serving model forecasts, with the drivers' plan for the periods
the plan covers and the driver-free models past it (``forecasting.plans``).
A what-if replaces some drivers' values for every period asked.

The errors are typed (``RequestError`` and its kinds) and carry what was
asked and what is known; the caller phrases them for its own users.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from forecasting.errors import DataError
from forecasting.limits import Limits
from forecasting.plans import forecast_with_plan, planned_steps
from forecasting.serving_model import SERVED, ServingModel, repeat_last_season


class RequestError(DataError):
    """A forecast request the serving model cannot answer as asked."""


class UnknownModel(RequestError):
    def __init__(self, asked: str, trained: list[str]) -> None:
        self.asked, self.trained = asked, trained
        super().__init__(f"Unknown model {asked!r}; trained: {', '.join(trained)}.")


class UnknownSeries(RequestError):
    def __init__(self, asked: list[str], suggestions: list[str] | None = None) -> None:
        self.asked, self.suggestions = asked, suggestions or []
        names = ", ".join(asked[:5])
        hint = f" did you mean {', '.join(map(repr, self.suggestions))}?" if suggestions else ""
        super().__init__(f"Unknown series {names};{hint}".rstrip(";"))


class UnknownDriver(RequestError):
    def __init__(self, asked: list[str], drivers: tuple[str, ...]) -> None:
        self.asked, self.drivers = asked, drivers
        super().__init__(
            f"{', '.join(asked)} is not a driver of the serving model; its drivers: "
            f"{', '.join(drivers) or 'none'}."
        )


class BadRequest(RequestError):
    """A value out of range: the horizon, a driver's planned values."""


@dataclass(frozen=True)
class ForecastRequest:
    """What a caller asks: ``horizon`` periods of some series (all when ``series`` is
    None), by the served choice or one trained ``model``, with optional what-if values
    per driver (one value for every period, or one per period) or a whole ``plan``
    (``unique_id, ds`` and the drivers, e.g. a ``--future`` file) instead of the data
    set's."""

    horizon: int
    series: tuple[str, ...] | None = None
    model: str | None = None
    drivers: Mapping[str, float | list[float]] | None = None
    plan: pd.DataFrame | None = None

    @property
    def served(self) -> bool:
        return self.model in (None, SERVED)


@dataclass(frozen=True)
class StoredForecast:
    """A run's stored forecast, the periods every series of it covers, and how many
    leading ones used the plan (both fixed when the run ended: worked out once)."""

    rows: pd.DataFrame
    horizon: int
    planned: int = 0

    @classmethod
    def of(cls, rows: pd.DataFrame, serving: ServingModel) -> StoredForecast:
        horizon = int(rows.groupby("unique_id").size().min()) if len(rows) else 0
        return cls(rows, horizon, planned_steps(serving.plan, serving, horizon) if horizon else 0)


@dataclass
class ForecastAnswer:
    #: per series and period: ``unique_id, ds, yhat``, bands, ``model``, ``extrapolated``
    rows: pd.DataFrame
    #: leading periods whose drivers came from a plan (0 without drivers or plan)
    planned_steps: int
    #: "stored" (the run's stored forecast) or "model" (forecast on request)
    source: str


def answer(
    serving: ServingModel,
    request: ForecastRequest,
    stored: StoredForecast | None = None,
) -> ForecastAnswer:
    """The forecast ``request`` asks for, from ``serving`` (its plan included) and, where
    it covers the request, the run's ``stored`` forecast."""
    h = request.horizon
    if h < 1:
        raise BadRequest(f"The horizon must be at least 1 period, got {h}.")
    if not request.served and request.model not in serving.models:
        raise UnknownModel(str(request.model), serving.models)
    series = list(request.series) if request.series else None
    if series:
        unknown = sorted(set(series) - set(serving.series))
        if unknown:
            raise UnknownSeries(unknown)
    unknown_drivers = sorted(set(request.drivers or {}) - set(serving.spec.exog))
    if unknown_drivers:
        raise UnknownDriver(unknown_drivers, serving.spec.exog)
    plan = request.plan if request.plan is not None else serving.plan
    model = None if request.served else request.model
    if request.drivers:
        plan = what_if_plan(serving, plan, request.drivers, h)
    elif request.plan is None and request.served and stored is not None and stored.horizon >= h:
        rows = stored.rows
        rows = rows if series is None else rows.loc[rows["unique_id"].isin(series)]
        rows = rows.groupby("unique_id", sort=False).head(h).reset_index(drop=True)
        return ForecastAnswer(_flag(rows, serving), min(stored.planned, h), "stored")
    rows, steps = forecast_with_plan(serving, h, plan, model, series)
    return ForecastAnswer(_flag(rows, serving), steps, "model")


def what_if_plan(
    serving: ServingModel,
    plan: pd.DataFrame | None,
    drivers: Mapping[str, float | list[float]],
    h: int,
) -> pd.DataFrame:
    """Drivers for ``h`` periods: the values given; for the drivers not given, the
    ``plan`` where it has them, else each series' last season repeated."""
    spec = serving.spec
    if serving.driver_tail is None:
        raise BadRequest(f"This model cannot take a what-if; retrain it to plan {spec.exog}.")
    future = repeat_last_season(serving.driver_tail, spec, h)
    if plan is not None:
        known = future[["unique_id", "ds"]].merge(plan, on=["unique_id", "ds"], how="left")
        for name in spec.exog:
            if name in known:
                future[name] = known[name].fillna(future[name]).to_numpy(float)
    step = future.groupby("unique_id", sort=False).cumcount()
    for name, given in drivers.items():
        values = driver_values(name, given if isinstance(given, list) else [given])
        if len(values) not in (1, h):
            raise BadRequest(f"Driver {name!r} needs 1 or {h} values, got {len(values)}.")
        values = pd.Series(values * (h if len(values) == 1 else 1))
        future[name] = step.map(values).to_numpy(float)
    return future


def driver_values(name: str, values: list) -> list[float]:
    """Planned values as numbers within the upload limit; a ``BadRequest`` saying which not."""
    limit = Limits().max_abs_value
    out = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadRequest(f"Driver {name!r} needs numbers, got {value!r}.") from None
        if not math.isfinite(number) or abs(number) > limit:
            raise BadRequest(
                f"Driver {name!r} got {value!r}; give a finite number of at most {limit:g} in size."
            )
        out.append(number)
    return out


def _flag(rows: pd.DataFrame, serving: ServingModel) -> pd.DataFrame:
    """Mark the periods past the validated horizon (their bands are extrapolated)."""
    step = rows.groupby("unique_id", sort=False).cumcount()
    return rows.assign(extrapolated=step >= serving.horizon)
