"""One forecast request and its answer: the same numbers for every caller.

Every reader of a serving model asks through ``answer``: the JSON API, the
pages, the command line and the MLflow pyfunc. The stored forecast answers
when it covers the request (it was made by the same rule when the run ended);
otherwise the serving model forecasts, with the drivers' plan for the periods
the plan covers and the driver-free models past it (``forecasting.serving.plans``).
A what-if replaces some drivers' values for every period asked.

The errors are typed (``RequestError`` and its kinds) and carry what was
asked and what is known; the caller phrases them for its own users.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.data.frequency import check_horizon
from forecasting.data.limits import Limits
from forecasting.errors import DataError
from forecasting.evaluation.intervals import LEVELS
from forecasting.models.base import forecast_grid
from forecasting.serving.model import SERVED, ServingModel
from forecasting.serving.plans import PlanUse, forecast_with_plan, use_plan


class RequestError(DataError):
    """A forecast request the serving model cannot answer as asked."""

    #: the request's field the value came in (a caller's error shape can name it)
    field: str | None = None


class UnknownModel(RequestError):
    field = "model"

    def __init__(self, asked: str, trained: list[str]) -> None:
        self.asked, self.trained = asked, trained
        super().__init__(f"Unknown model {asked!r}; trained: {', '.join(trained)}.")


class UnknownSeries(RequestError):
    field = "series"

    def __init__(self, asked: list[str], suggestions: list[str] | None = None) -> None:
        self.asked, self.suggestions = asked, suggestions or []
        names = ", ".join(asked[:5])
        hint = f" did you mean {', '.join(map(repr, self.suggestions))}?" if suggestions else ""
        super().__init__(f"Unknown series {names};{hint}".rstrip(";"))


class UnknownDriver(RequestError):
    field = "drivers"

    def __init__(self, asked: list[str], drivers: tuple[str, ...]) -> None:
        self.asked, self.drivers = asked, drivers
        super().__init__(
            f"{', '.join(asked)} is not a driver of the serving model; its drivers: "
            f"{', '.join(drivers) or 'none'}."
        )


class BadRequest(RequestError):
    """A value out of range: the horizon, a driver's planned values."""


class BadHorizon(BadRequest):
    field = "horizon"


class BadDriverValue(BadRequest):
    field = "drivers"


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
    """A run's stored forecast, the periods every series of it covers, and what it took
    from the plan (both fixed when the run ended: worked out once)."""

    rows: pd.DataFrame
    horizon: int
    plan: PlanUse | None = None

    @classmethod
    def of(cls, rows: pd.DataFrame, serving: ServingModel) -> StoredForecast:
        horizon = int(rows.groupby("unique_id").size().min()) if len(rows) else 0
        use = use_plan(serving.plan, serving, horizon) if horizon and serving.spec.exog else None
        return cls(rows, horizon, use)


@dataclass
class ForecastAnswer:
    #: per series and period: ``unique_id, ds, yhat``, bands, ``model``, ``extrapolated``;
    #: with drivers also ``planned`` and the driver values each period used
    rows: pd.DataFrame
    #: what the forecast took from a plan, series by series (None without drivers)
    plan: PlanUse | None
    #: "stored" (the run's stored forecast) or "model" (forecast on request)
    source: str
    #: per model, the series whose forecast diverged and was replaced, and why (a model's
    #: forecast on request only: the stored one's are in its run's series table)
    diverged: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def planned_periods(self) -> int:
        """The periods every series has planned (0 without drivers or plan)."""
        return (
            int(self.plan.periods().min()) if self.plan is not None and len(self.plan.rows) else 0
        )


def answer(
    serving: ServingModel,
    request: ForecastRequest,
    stored: StoredForecast | None = None,
) -> ForecastAnswer:
    """The forecast ``request`` asks for, from ``serving`` (its plan included) and, where
    it covers the request, the run's ``stored`` forecast."""
    h = request.horizon
    check_horizon(h, error=BadHorizon)
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
    model = None if request.served else request.model
    plain = not request.drivers and request.plan is None and request.served
    if plain and stored is not None and stored.horizon >= h:
        rows = stored.rows
        rows = rows if series is None else rows.loc[rows["unique_id"].isin(series)]
        rows = rows.groupby("unique_id", sort=False).head(h).reset_index(drop=True)
        use = stored.plan
        if use is not None:
            use = _first_periods(use, h, series)
            rows = rows.merge(use.rows, on=["unique_id", "ds"], how="left")
        return ForecastAnswer(_flag(rows, serving), use, "stored")
    if series:  # a catalogue's few series: their partitions' fits, not every series'
        serving = serving.narrowed(series)
    plan = request.plan if request.plan is not None else serving.plan
    if request.drivers:
        plan = what_if_plan(serving, plan, request.drivers, h, series)
    rows, use = forecast_with_plan(serving, h, plan, model, series)
    diverged = rows.attrs.get("diverged", {})
    if request.served:  # a plan's effect is the drivers', not the loss of the adjustment
        rows = reconciled(rows, serving)
    if use is not None:
        use = _first_periods(use, h, series)
    use = use if serving.spec.exog else None
    return ForecastAnswer(_flag(rows, serving), use, "model", diverged)


def reconciled(rows: pd.DataFrame, serving: ServingModel) -> pd.DataFrame:
    """The served forecast moved by the run's reconciliation where MinT won on validation
    (``forecasting.serving.reconciliation``): each series' adjustment added to its
    forecast and bands (a series that never goes below zero stays at or above it). A
    what-if keeps the adjustment made under the file's plan, so that what a plan moves
    is what its drivers move."""
    coherence = serving.coherence
    if coherence is None or coherence.delta is None or rows.empty:
        return rows
    delta = rows[["unique_id", "ds"]].merge(coherence.delta, on=["unique_id", "ds"], how="left")
    shift = delta["delta"].fillna(0.0).to_numpy()
    out = rows.copy()
    floor = np.where(out["unique_id"].map(serving.nonnegative).fillna(False), 0.0, -np.inf)
    bands = [f"{side}{level}" for level in LEVELS for side in ("lo", "hi")]
    for col in ("yhat", *[c for c in bands if c in out]):
        out[col] = np.maximum(out[col].to_numpy(float) + shift, floor)
    return out


def _first_periods(use: PlanUse, h: int, series: list[str] | None) -> PlanUse:
    """The plan use of the first ``h`` periods of some series."""
    rows = use.rows if series is None else use.rows.loc[use.rows["unique_id"].isin(series)]
    rows = rows.groupby("unique_id", sort=False).head(h).reset_index(drop=True)
    last = rows.groupby("unique_id", sort=False)["ds"].max()

    def within(table: pd.DataFrame | None) -> pd.DataFrame | None:
        if table is None:
            return None
        if series is not None:
            table = table.loc[table["unique_id"].isin(series)]
        kept = table["first"].to_numpy() <= table["unique_id"].map(last).to_numpy()
        return table.loc[kept].reset_index(drop=True)

    return PlanUse(rows, within(use.holes), within(use.outside))


def what_if_plan(
    serving: ServingModel,
    plan: pd.DataFrame | None,
    drivers: Mapping[str, float | list[float]],
    h: int,
    series: list[str] | None = None,
) -> pd.DataFrame:
    """Drivers for ``h`` periods: the values given, for every asked series; the drivers
    not given keep the ``plan`` where it has them. A driver given nowhere is blank: the
    plan's fill rules or the driver-free choice decide (``forecasting.serving.plans``), never a
    guess such as last season's values."""
    spec = serving.spec
    grid = forecast_grid(serving.last_ds, h, spec)
    if series:
        grid = grid.loc[grid["unique_id"].isin(series)].reset_index(drop=True)
    future = grid.assign(**{name: np.nan for name in spec.exog})
    if plan is not None:
        given = plan.drop_duplicates(["unique_id", "ds"])
        known = grid.merge(given, on=["unique_id", "ds"], how="left")
        for name in spec.exog:
            if name in known:
                future[name] = known[name].to_numpy(float)
    step = future.groupby("unique_id", sort=False).cumcount()
    for name, given in drivers.items():
        given = given if isinstance(given, list) else [given]
        values = driver_values(name, given, price=spec.role(name) == "price")
        if len(values) not in (1, h):
            raise BadDriverValue(f"Driver {name!r} needs 1 or {h} values, got {len(values)}.")
        values = pd.Series(values * (h if len(values) == 1 else 1))
        future[name] = step.map(values).to_numpy(float)
    return future


def driver_values(name: str, values: list, price: bool = False) -> list[float]:
    """Planned values as numbers within the upload limit, a ``price`` above zero; a
    ``BadRequest`` saying which not (a stranger's price of -3 was forecast as the lowest
    price seen, without a word)."""
    limit = Limits().max_abs_value
    out = []
    for value in values:
        if value is None or value == "":  # blank: no plan for this driver here
            out.append(math.nan)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadDriverValue(f"Driver {name!r} needs numbers, got {value!r}.") from None
        if not math.isfinite(number) or abs(number) > limit:
            raise BadDriverValue(
                f"Driver {name!r} got {value!r}; give a finite number of at most {limit:g} in size."
            )
        if price and number <= 0:
            raise BadDriverValue(
                f"Driver {name!r} is a price and got {value!r}; give a price above zero."
            )
        out.append(number)
    return out


def _flag(rows: pd.DataFrame, serving: ServingModel) -> pd.DataFrame:
    """Mark the periods past the validated horizon (their bands are extrapolated)."""
    step = rows.groupby("unique_id", sort=False).cumcount()
    return rows.assign(extrapolated=step >= serving.horizon)
