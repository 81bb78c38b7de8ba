"""What production serves: the refitted models, how they combine, and how wide the bands are.

A ``ServingModel`` is a value: built once by ``forecasting.serving.build`` and never
changed after, it forecasts any horizon from its own state (no data set needed),
for the served combination or any single trained model, so the command line, the
web app and the MLflow pyfunc all forecast the same way (through
``forecasting.serving.requests.answer``). Every series it was given gets a forecast:
fitted models serve the ``short`` and ``long`` steps of the ladder, the ``level``
and ``zero`` rules the ``new`` and ``zero`` ones (``forecasting.data.ladder``). Bands
past the validated horizon keep widening and are flagged ``extrapolated``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.data.closures import closed_rows
from forecasting.data.ladder import series_table, upgrade_names
from forecasting.data.spec import DataSpec
from forecasting.errors import DataError
from forecasting.evaluation.group_bands import sum_with_bands
from forecasting.evaluation.intervals import add_step, apply_intervals
from forecasting.evaluation.selection import RULES, Selection, combine
from forecasting.models import Forecaster
from forecasting.models.base import forecast_grid
from forecasting.models.by_partition import ByPartition, PartReader, share_series_facts
from forecasting.serving.coherence import Coherence

SERVED = "selected"
#: the held-out score of the served forecast made without the drivers' plan
SERVED_WITHOUT_PLAN = "served_without_plan"
#: a serving model's tables of one row (or rows) per series, by its id (the index or a
#: ``unique_id`` column); ``errors`` is read by the series asked, and stays whole
PER_SERIES = (
    "choice", "unplanned", "scale", "nonnegative", "profile", "rule_levels",
    "driver_tail", "plan", "driver_range", "closures",
)  # fmt: skip
#: the columns of a forecast that a closure sets to zero
BAND_COLUMNS = ("yhat", "lo80", "hi80", "lo95", "hi95")


@dataclass(frozen=True, eq=False)
class ServingModel:
    """The models, the choice per series, the bands, the plan and how the sums are made."""

    fitted: dict[str, Forecaster]
    members: dict[str, list[str]]
    #: served candidate per series (a model, an ensemble name or a rule)
    choice: pd.Series
    #: conformal quantiles per candidate: rows are horizon steps, columns levels
    quantiles: dict[str, pd.DataFrame]
    scale: pd.Series
    nonnegative: pd.Series
    spec: DataSpec
    #: the horizon the intervals were validated for
    horizon: int
    #: per series: ladder step, demand class, history length (``ladder.profile_series``)
    profile: pd.DataFrame | None = None
    #: per series a rule serves (ladder steps ``new``, ``zero``): its level and last date
    rule_levels: pd.DataFrame | None = None
    #: a model trained before ``unplanned``: its served driver models fitted without the
    #: drivers, which serve when no plan is given (None for models trained since)
    plain: dict[str, Forecaster] | None = None
    #: each series' last season of drivers: where a price hole in a plan starts from (its
    #: last value), and what a model trained before ``unplanned`` was given without a plan
    driver_tail: pd.DataFrame | None = None
    #: validation errors per series, fold, period and candidate: bands of sums of series
    #: are calibrated on them (``forecasting.evaluation.group_bands``)
    errors: pd.DataFrame | None = None
    #: the drivers' planned values past the last sale, as the data set gave them: every
    #: reader forecasts with the same plan (``forecasting.serving.requests``)
    plan: pd.DataFrame | None = None
    #: where drivers serve: the candidate per series for the periods no plan covers,
    #: chosen among the driver-free candidates by their validation scores (None: a model
    #: trained before, whose ``plain`` twins serve those periods)
    unplanned: pd.Series | None = None
    #: per series, the lowest and highest value of each price in its history: a planned
    #: price beyond them is forecast at the nearest (``price_min``, ``price_max``
    #: columns); what the history never showed, no model can say
    driver_range: pd.DataFrame | None = None
    #: how the sums are made coherent (``forecasting.serving.reconciliation``): bottom-up, or MinT
    #: with each validated series' adjustment of the served forecast under the file's plan
    coherence: Coherence | None = None
    #: ``unique_id, holiday``: the holidays a series is closed on, forecast zero
    #: (``forecasting.data.closures``); None for a model trained before
    closures: pd.DataFrame | None = None

    def __setstate__(self, state: dict) -> None:
        """Load a model pickled before the glossary: ``rungs`` became ``rule_levels``."""
        if "rungs" in state:
            state["rule_levels"] = state.pop("rungs")
        if state.get("profile") is not None:
            state["profile"] = upgrade_names(state["profile"])
        self.__dict__.update(state)  # a frozen value: set once, as it is loaded

    @property
    def models(self) -> list[str]:
        return list(self.fitted)

    @property
    def series(self) -> list[str]:
        return list(self.choice.index)

    @property
    def last_ds(self) -> pd.Series:
        """Each series' last date of history: where its forecast, and a plan, start."""
        # every fitted model saw the same modelled series; the rules hold the rest
        parts = [next(iter(self.fitted.values())).last_ds_] if self.fitted else []
        if self.rule_levels is not None and not self.rule_levels.empty:
            parts.append(self.rule_levels["last_ds"])
        last = pd.concat(parts)
        if len(last) > len(self.choice):  # narrowed: its parts hold other series too
            last = last.loc[last.index.isin(self.choice.index)]
        return last

    def narrowed(self, series: Collection[str]) -> ServingModel:
        """The same model for ``series`` alone, row for row the whole model's numbers: a
        model fitted by partition keeps the parts that hold them. A what-if for one SKU
        of 10,000 forecast all 10,000 with every model it combines (issue 30)."""
        keep = set(series)

        def only(table):
            if table is None:
                return None
            if isinstance(table, pd.DataFrame) and "unique_id" in table.columns:
                return table.loc[table["unique_id"].isin(keep)]
            return table.loc[table.index.isin(keep)]

        def fits(models: dict[str, Forecaster] | None) -> dict[str, Forecaster] | None:
            return None if models is None else {n: m.for_series(keep) for n, m in models.items()}

        coherence = self.coherence
        if coherence is not None and coherence.delta is not None:
            coherence = replace(coherence, delta=only(coherence.delta))
        return replace(
            self,
            fitted=fits(self.fitted),
            plain=fits(self.plain),
            coherence=coherence,
            **{name: only(getattr(self, name)) for name in PER_SERIES},
        )

    def apart(self) -> tuple[ServingModel, dict[str, Forecaster]]:
        """This model with every fit by partition stored apart, and those parts by name
        (``part-<model>-<i>``) to store beside it. At 10,000 daily series the fits were
        three quarters of the serving model, and every web worker held them all."""
        fitted, parts = {}, {}
        for name, model in self.fitted.items():
            if isinstance(model, ByPartition):
                model, named = model.apart(f"part-{name}")  # a copy: facts can be shared
                parts.update(named)
            fitted[name] = model
        share_series_facts([m for m in fitted.values() if isinstance(m, ByPartition)])
        return replace(self, fitted=fitted), parts

    def reading_parts(self, read: PartReader) -> ServingModel:
        """This model, loaded, reading the parts it keeps apart with ``read``."""
        for model in self.fitted.values():
            if isinstance(model, ByPartition):
                model.reading_with(read)
        return self

    def series_parts(self) -> list[list[str]]:
        """The series in the groups their models were fitted in: a catalogue's partitions
        (``ByPartition``), then the series a rule serves; one group for a model fitted
        whole. Forecast a group at a time, each forecasts only its own part."""
        split = next((m for m in self.fitted.values() if isinstance(m, ByPartition)), None)
        if split is None:
            return [self.series]
        parts = [series.tolist() for series in split.part_series()]
        seen = {uid for part in parts for uid in part}
        rest = [uid for uid in self.series if uid not in seen]
        return parts + ([rest] if rest else [])

    def served_models(self) -> set[str]:
        """Every model a served forecast combines: with a plan and, where drivers serve,
        past it (a stranger found the models serving without a plan unmarked)."""
        chosen = set(self.choice) | (set(self.unplanned) if self.unplanned is not None else set())
        return {m for cand in chosen for m in self.members.get(cand, [])}

    def serving_members(self, uid: str) -> set[str]:
        """The models a series' served forecast combines, with a plan and without one."""
        chosen = [self.choice.get(uid)]
        if self.unplanned is not None:
            chosen.append(self.unplanned.get(uid))
        return {m for cand in chosen if cand is not None for m in self.members.get(cand, [])}

    def driver_free(self, series: list[str]) -> pd.Series:
        """Those of ``series`` that a plan cannot move, with what serves them: what serves
        them with a plan reads no driver (no member of it reads one) and is what serves
        them without one. Where the two differ, a plan switches the series from one to
        the other, drivers or not."""
        served = self.choice.reindex(series).dropna()
        unplanned = self.driver_free_choice
        same = served == (unplanned.reindex(served.index) if unplanned is not None else served)
        reads = {
            cand: any(m in self.fitted and self._needs_plan(m) for m in self.members.get(cand, []))
            for cand in set(served)
        }
        return served[~served.map(reads).astype(bool) & same]

    def sum_forecast(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Per period, the sum of per-series forecast ``rows`` with bands of the sum's own
        (``forecasting.evaluation.group_bands``)."""
        return sum_with_bands(rows, self.errors, self.scale, self.nonnegative)

    @property
    def driver_free_choice(self) -> pd.Series | None:
        """Where drivers serve, what serves each series without a plan (None: no drivers,
        or a model trained before they had a choice of their own)."""
        return self.unplanned if self.spec.exog and self.unplanned is not None else None

    def series_table(self) -> pd.DataFrame:
        """Per series: ladder step, demand class and what serves it (``ladder.series_table``).

        Where drivers serve and the two choices differ, ``served_by`` is what serves the
        stored forecast: without a plan on file the driver-free choice, with the drivers'
        one beside it (``served_with_a_plan``); with a plan, the drivers' choice and the
        driver-free one past it (``served_past_the_plan``). A stranger read "served by
        linear_trend" on every page while an intermittent model made the forecast."""
        if self.profile is None:
            table = pd.DataFrame({"unique_id": self.choice.index, "served_by": self.choice.values})
        else:
            table = series_table(self.profile, self.choice, self.spec.freq.name)
        unplanned = self.driver_free_choice
        if unplanned is None:
            return table
        other = table["unique_id"].map(unplanned).fillna(table["served_by"])
        if (other == table["served_by"]).all():
            return table
        if self.plan is None:
            return table.assign(served_with_a_plan=table["served_by"], served_by=other)
        return table.assign(served_past_the_plan=other)

    def stored_choice(self) -> pd.Series:
        """Per series, what makes the stored forecast's first period: without a plan on
        file, where drivers serve, the driver-free choice (see ``series_table``)."""
        if self.driver_free_choice is not None and self.plan is None:
            return self.driver_free_choice.reindex(self.choice.index).fillna(self.choice)
        return self.choice

    def describe(self) -> str:
        """What makes the forecast a reader sees: where drivers serve, the choice with a
        plan and the driver-free one past it, the one that serves the stored forecast
        first (issue 28: the label named the drivers' choice, while without a plan every
        future value came from the driver-free one)."""
        with_plan = _kinds(self.choice)
        unplanned = self.driver_free_choice
        if unplanned is None or _kinds(unplanned) == with_plan:
            return with_plan
        if self.plan is not None:
            return f"{with_plan} with the plan; {_kinds(unplanned)} past it"
        return f"{_kinds(unplanned)} without a plan; {with_plan} with one"

    def forecast(
        self,
        h: int,
        future: pd.DataFrame | None = None,
        model: str | None = None,
        series: list[str] | None = None,
    ) -> pd.DataFrame:
        """``unique_id, ds, yhat, lo80, hi80, lo95, hi95, model`` for ``h`` periods; its
        ``attrs["diverged"]`` holds, per model, the series it replaced."""
        served, wide = self.forecast_with_members(h, future, model, series)
        served.attrs = dict(wide.attrs)
        return served

    def forecast_with_members(
        self,
        h: int,
        future: pd.DataFrame | None = None,
        model: str | None = None,
        series: list[str] | None = None,
        every_model: bool = False,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The served forecast and the wide frame of the model forecasts it combines
        (every trained model's with ``every_model``, as a backtest scores them all).
        Series served by a rule carry the rule's forecast in every model column. The wide
        frame's ``attrs["diverged"]`` holds, per model, the series it replaced."""
        if model is not None and model not in self.fitted and model != SERVED:
            raise DataError(f"Unknown model {model!r}; trained: {', '.join(self.fitted)}.")
        if series:
            unknown = sorted(set(series) - set(self.choice.index))
            if unknown:
                raise DataError(f"Unknown series {', '.join(unknown[:5])}.")
        on_rule = self.choice.isin(RULES.values())
        choice = self.choice if model in (None, SERVED) else self.choice.where(on_rule, model)
        future = self.within_range(future)
        beyond = self._beyond_choice(model, choice)
        if beyond is not None and model not in (None, SERVED) and self._held_by_rules():
            # a model asked by name forecasts the periods without a plan itself, with a
            # price held at its last value and no promotion (the plan's fill rules)
            future, beyond = self._held(h, future), None
        grid_planned = self._planned(h, future) if beyond is not None else None
        any_planned = grid_planned is None or bool(grid_planned["planned"].any())
        any_unplanned = grid_planned is not None and not bool(grid_planned["planned"].all())
        wanted = set(choice) if any_planned else set()
        if any_unplanned:
            wanted |= set(beyond)
        needed = {m for cand in wanted for m in self.members.get(cand, [])}
        needed = [m for m in self.fitted if every_model or m in needed]
        if beyond is not None and not any_planned:  # nothing to give the drivers' models
            needed = [m for m in needed if not self._needs_plan(m)]
        wide = None
        diverged: dict[str, dict[str, str]] = {}
        asked = set(series or self.choice.index)
        for name in needed:
            forecaster, drivers = self._model_for(name, future, h, beyond is not None)
            pred = forecaster.predict(h, self._padded(forecaster, drivers, h))
            pred = pred.rename(columns={"yhat": name})
            replaced = {u: why for u, why in pred.attrs.get("diverged", {}).items() if u in asked}
            if replaced:
                diverged[name] = replaced
            wide = pred if wide is None else wide.merge(pred, on=["unique_id", "ds"])
        rule_rows = self._rule_forecast(h, needed)
        if rule_rows is not None:
            wide = rule_rows if wide is None else pd.concat([wide, rule_rows], ignore_index=True)
        if wide is None:
            raise DataError("This model has no series to forecast.")
        if series:
            wide = wide.loc[wide["unique_id"].isin(series)].reset_index(drop=True)
        served = wide[["unique_id", "ds"]].copy()
        served["model"] = served["unique_id"].map(choice)
        if grid_planned is not None:
            planned = served.merge(grid_planned, on=["unique_id", "ds"], how="left")["planned"]
            planned = planned.fillna(False).to_numpy(bool)
            served["model"] = served["model"].where(planned, served["unique_id"].map(beyond))
        by_choice = Selection(self.members, choice, pd.DataFrame(), "stored")
        if grid_planned is None:
            served["yhat"] = combine(wide, by_choice)
        else:
            served["yhat"] = np.nan
            if planned.any():
                served.loc[planned, "yhat"] = combine(wide.loc[planned], by_choice)
            if not planned.all():
                by_beyond = Selection(self.members, beyond, pd.DataFrame(), "stored")
                served.loc[~planned, "yhat"] = combine(wide.loc[~planned], by_beyond)
        if rule_rows is not None:
            on_rule = wide["unique_id"].isin(rule_rows["unique_id"].unique())
            served.loc[on_rule, "yhat"] = wide.loc[on_rule, "_rule"]
            wide = wide.drop(columns="_rule")
        served = add_step(served, ["unique_id"])
        parts = []
        for cand, rows in served.groupby("model", sort=False):
            parts.append(apply_intervals(rows, self.quantiles[cand], self.scale, self.nonnegative))
        served = pd.concat(parts).sort_index()
        served["extrapolated"] = served.groupby("unique_id", sort=False).cumcount() >= self.horizon
        self._close(served, wide)
        if grid_planned is not None:
            served["planned"] = planned
        wide.attrs = {"diverged": diverged}
        return served, wide

    def _close(self, served: pd.DataFrame, wide: pd.DataFrame) -> None:
        """Zero, band and all, on the holidays a series is closed on, for every model: a
        store's closure is the store's, whatever forecasts it."""
        closed = closed_rows(served, self.closures, self.spec)
        if not closed.any():
            return
        served.loc[closed, [c for c in BAND_COLUMNS if c in served]] = 0.0
        models = [c for c in wide.columns if c not in ("unique_id", "ds")]
        wide.loc[closed_rows(wide, self.closures, self.spec), models] = 0.0

    def _padded(
        self, model: Forecaster, drivers: pd.DataFrame | None, h: int
    ) -> pd.DataFrame | None:
        """The drivers, and any value for the series a narrowed model's parts hold beside
        its own (a part forecasts all its series; theirs are dropped)."""
        if drivers is None or not model.uses_exog or not self.spec.exog:
            return drivers
        others = model.last_ds_.loc[~model.last_ds_.index.isin(self.choice.index)]
        if others.empty:
            return drivers
        filler = forecast_grid(others, h, self.spec).assign(**dict.fromkeys(self.spec.exog, 0.0))
        return pd.concat([drivers, filler], ignore_index=True)

    def _beyond_choice(self, model: str | None, choice: pd.Series) -> pd.Series | None:
        """What serves the periods no plan covers: the driver-free choice (None: no
        drivers, or a model trained before they had a choice of their own); an asked
        model that uses no drivers serves them itself."""
        if self.driver_free_choice is None:
            return None
        if model not in (None, SERVED) and not self._needs_plan(model):
            return choice
        return self.unplanned

    def within_range(self, future: pd.DataFrame | None) -> pd.DataFrame | None:
        """The plan with each price held within the series' history (``driver_range``)."""
        if future is None or self.driver_range is None:
            return future
        out = future.copy()
        for name in self.spec.prices:
            if name in out and f"{name}_min" in self.driver_range:
                low = out["unique_id"].map(self.driver_range[f"{name}_min"])
                high = out["unique_id"].map(self.driver_range[f"{name}_max"])
                out[name] = out[name].clip(lower=low, upper=high)
        return out

    def _held_by_rules(self) -> bool:
        """Whether every driver has a fill rule (a price, a promotion)."""
        return self.driver_tail is not None and all(
            self.spec.role(name) != "other" for name in self.spec.exog
        )

    def _held(self, h: int, future: pd.DataFrame | None) -> pd.DataFrame:
        """The plan on every period, the periods it leaves blank held by the fill rules."""
        grid = forecast_grid(self.last_ds, h, self.spec)
        cols = list(self.spec.exog)
        out = (
            grid
            if future is None
            else grid.merge(
                future[["unique_id", "ds", *cols]].drop_duplicates(["unique_id", "ds"]), how="left"
            )
        )
        last = self.driver_tail.groupby("unique_id", sort=False)[cols].last()
        for name in cols:
            if name not in out:
                out[name] = np.nan
            rule = 0.0 if self.spec.role(name) == "promotion" else out["unique_id"].map(last[name])
            out[name] = out[name].fillna(rule)
        return out

    def _needs_plan(self, name: str) -> bool:
        return bool(self.spec.exog) and self.fitted[name].uses_exog

    def _planned(self, h: int, future: pd.DataFrame | None) -> pd.DataFrame:
        """``unique_id, ds, planned``: whether the plan gives every driver for the period."""
        grid = forecast_grid(self.last_ds, h, self.spec)
        if future is None or not set(self.spec.exog) <= set(future.columns):
            return grid.assign(planned=False)
        cols = ["unique_id", "ds", *self.spec.exog]
        rows = grid.merge(future[cols].drop_duplicates(["unique_id", "ds"]), how="left")
        return grid.assign(planned=rows[list(self.spec.exog)].notna().all(axis=1).to_numpy())

    def without_plan(self, future: pd.DataFrame | None) -> list[str]:
        """The drivers a forecast goes without: all of them when no plan is given."""
        return list(self.spec.exog) if self.spec.exog and future is None else []

    def _model_for(
        self, name: str, future: pd.DataFrame | None, h: int, split: bool = False
    ) -> tuple[Forecaster, pd.DataFrame | None]:
        """The fitted model and the drivers to give it: the plan. With ``split`` (the
        periods no plan covers have a choice of their own) the plan's holes get any
        value, as those periods' forecasts are not used; for a model trained before,
        without a plan: its driver-free twin, else the drivers' last season."""
        model = self.fitted[name]
        if split and future is not None and model.uses_exog:
            grid = forecast_grid(self.last_ds, h, self.spec)
            return model, _stopgap(grid, future, self.spec.exog)
        if not self.without_plan(future) or not model.uses_exog:
            return model, future
        if self.plain and name in self.plain:
            return self.plain[name], None
        if self.driver_tail is None:
            raise DataError(
                f"{name} needs planned values of {', '.join(self.spec.exog)}; give them."
            )
        return model, repeat_last_season(self.driver_tail, self.spec, h)

    def _rule_forecast(self, h: int, columns: list[str]) -> pd.DataFrame | None:
        """Forecast rows of the series served by a rule: their level, in every model column."""
        if self.rule_levels is None or self.rule_levels.empty:
            return None
        grid = forecast_grid(self.rule_levels["last_ds"], h, self.spec)
        level = grid["unique_id"].map(self.rule_levels["level"]).to_numpy(float)
        return grid.assign(**{name: level for name in columns}, _rule=level)


def _stopgap(grid: pd.DataFrame, future: pd.DataFrame, drivers: tuple[str, ...]) -> pd.DataFrame:
    """The plan on every period of ``grid``, its holes filled by any value: those
    periods' forecasts are served by a driver-free candidate instead."""
    cols = list(drivers)
    given = future[["unique_id", "ds", *cols]].drop_duplicates(["unique_id", "ds"])
    out = grid.merge(given, on=["unique_id", "ds"], how="left")
    out[cols] = out.groupby("unique_id", sort=False)[cols].ffill()
    out[cols] = out.groupby("unique_id", sort=False)[cols].bfill().fillna(0.0)
    return out


def repeat_last_season(tail: pd.DataFrame, spec: DataSpec, h: int) -> pd.DataFrame:
    """Drivers for the next ``h`` periods: each series' last season, repeated."""
    last = tail.groupby("unique_id", sort=False)["ds"].max()
    grid = forecast_grid(last, h, spec)
    seasons = {
        uid: rows[list(spec.exog)].to_numpy(float)
        for uid, rows in tail.groupby("unique_id", sort=False)
    }
    parts = [
        pd.DataFrame(
            np.resize(seasons[uid], (len(rows), len(spec.exog))),
            columns=list(spec.exog),
            index=rows.index,
        )
        for uid, rows in grid.groupby("unique_id", sort=False)
    ]
    return pd.concat([grid, pd.concat(parts)], axis=1)


def _kinds(choice: pd.Series) -> str:
    """A choice per series in words: the candidate, or each with its count of series."""
    kinds = choice.value_counts()
    if len(kinds) == 1:
        return str(kinds.index[0])
    return "per series: " + ", ".join(f"{k} ({v})" for k, v in kinds.items())
