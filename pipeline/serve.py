"""The read side of the product: history, forecasts, metrics and reports of what serves.

The command line and the web app (pages, JSON API) ask this module, never the
database or the model files directly. The production model and its data set
are loaded once per process and cached by run id, so a request costs a
lookup. Which run serves is asked again only after the database changed
(``Database.data_version``), so a promotion is picked up at the next request.
"""

from __future__ import annotations

import difflib
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.errors import DataError
from forecasting.frequency import Frequency, frequency_from_alias
from forecasting.ladder import describe_step
from forecasting.limits import Limits
from forecasting.models import BASELINE
from forecasting.plans import forecast_with_plan, read_plan_csv
from forecasting.selection import RUNGS
from forecasting.serving import ServingModel, driver_tail, repeat_last_season
from pipeline.eda_report import report_dir
from pipeline.system import System
from storage import runs
from storage.datasets import dataset_info, latest_dataset_id, series_keys
from storage.results import model_results, stored_forecasts

TOTAL = "total"


class UnknownSelection(DataError):
    """The request names a series, group or model the production run does not have."""


@dataclass(frozen=True)
class Selection:
    """What to show: one series, a group of series sharing an attribute value, or the total."""

    series: str | None = None
    group: str | None = None  # "column=value", e.g. "store=north"

    @property
    def label(self) -> str:
        return self.series or self.group or "all series (total)"


@dataclass
class Production:
    run: dict
    serving: ServingModel
    dataset_id: int
    keys: pd.DataFrame
    stored: pd.DataFrame
    #: periods every series' stored forecast covers (0 when none is stored)
    stored_horizon: int = 0
    #: per series: ladder step, demand class, what serves it (read on first ask)
    series: pd.DataFrame | None = None


def baseline_metrics(models: list[dict]) -> dict | None:
    """Held-out metrics of the seasonal-naive baseline among a run's model results."""
    return next((m["test"] for m in models if m["model"] == BASELINE), None)


class ForecastService:
    def __init__(self, system: System):
        self.system = system
        self._lock = threading.Lock()
        self._production: Production | None = None
        #: (database version, production run id) last seen
        self._serving_seen: tuple[int | None, int | None] = (None, None)
        #: the latest data set read: id -> (frame, series keys)
        self._history: dict[int, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]] = {}

    # -- what serves ---------------------------------------------------------------------------

    def production_run_id(self) -> int | None:
        """The run that serves; remembered until the database changes (SQLite)."""
        version = self.system.db.data_version()
        seen_version, seen_id = self._serving_seen
        if version is not None and version == seen_version:
            return seen_id
        run_id = runs.production_run_id(self.system.db)
        self._serving_seen = (version, run_id)
        return run_id

    def production(self) -> Production:
        run_id = self.production_run_id()
        if run_id is None:
            raise DataError(
                "No model serves yet: train one first (Retraining page, POST /api/runs, "
                "or python -m pipeline run --csv FILE)."
            )
        with self._lock:
            if self._production is None or self._production.run["id"] != run_id:
                run = runs.get_run(self.system.db, run_id)
                serving = self.system.artifacts.load(run_id, "serving")
                keys = series_keys(self.system.db, run["dataset_id"])
                stored = stored_forecasts(self.system.db, run_id)
                covered = int(stored.groupby("unique_id").size().min()) if len(stored) else 0
                self._production = Production(
                    run, serving, run["dataset_id"], keys, stored, covered
                )
            return self._production

    def has_production(self) -> bool:
        return self.production_run_id() is not None

    # -- series and groups ---------------------------------------------------------------------

    def generation(self) -> tuple[int | None, int | None]:
        """What a read depends on: the serving run and the data set shown (one lookup)."""
        run_id = self.production_run_id()
        return run_id, self._dataset_of(run_id)

    def dataset_id(self) -> int | None:
        return self._dataset_of(self.production_run_id())

    def _dataset_of(self, run_id: int | None) -> int | None:
        if run_id is None:
            return latest_dataset_id(self.system.db)
        prod = self._production
        if prod is not None and prod.run["id"] == run_id:
            return prod.dataset_id
        return runs.get_run(self.system.db, run_id)["dataset_id"]

    def keys(self, dataset_id: int | None = None) -> pd.DataFrame:
        dataset_id = dataset_id or self.dataset_id()
        if dataset_id is None:
            return pd.DataFrame(columns=["unique_id", "total"])
        return self._load(dataset_id)[1]

    def series_options(self, dataset_id: int | None = None) -> dict[str, list[str]]:
        """Series ids (largest first) and groups (``column=value``) for selectors."""
        keys = self.keys(dataset_id)
        if keys.empty:
            return {"series": [], "groups": []}
        series = keys.sort_values("total", ascending=False)["unique_id"].tolist()
        groups = []
        for col in keys.columns.drop(["unique_id", "total"]):
            values = keys[col].dropna().unique()
            if 1 < len(values) < len(keys):
                groups += [f"{col}={v}" for v in sorted(values, key=str)]
        return {"series": series, "groups": groups}

    def members(self, selection: Selection, keys: pd.DataFrame) -> list[str]:
        if selection.series and selection.series != TOTAL:
            if selection.series not in set(keys["unique_id"]):
                asked = selection.series
                hint = did_you_mean(asked, keys["unique_id"].tolist())
                raise UnknownSelection(f"Unknown series {asked!r};{hint} see GET /api/series.")
            return [selection.series]
        if selection.group:
            return group_members(selection.group, keys)
        return keys["unique_id"].tolist()

    # -- history -------------------------------------------------------------------------------

    def history_frame(self, dataset_id: int | None = None) -> pd.DataFrame:
        dataset_id = dataset_id or self.dataset_id()
        if dataset_id is None:
            raise DataError("No data set is stored yet: upload a CSV first.")
        return self._load(dataset_id)[0]

    def plan(self, dataset_id: int | None = None) -> pd.DataFrame | None:
        """The drivers' planned values past the last sale, as the file gave them."""
        dataset_id = dataset_id or self.dataset_id()
        return None if dataset_id is None else self._load(dataset_id)[2]

    def _load(self, dataset_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
        """A data set's rows, series keys and plan, read once and kept (versions never change)."""
        from pipeline.stored import resolve_dataset

        with self._lock:
            if dataset_id not in self._history:
                stored = resolve_dataset(self.system.db, dataset_id)
                keys = series_keys(self.system.db, dataset_id)
                self._history = {dataset_id: (stored.frame, keys, stored.plan)}
            return self._history[dataset_id]

    def history(self, selection: Selection = Selection(), dataset_id: int | None = None):
        """``ds, y, outliers`` summed over the selection."""
        dataset_id = dataset_id or self.dataset_id()
        frame = self.history_frame(dataset_id)
        chosen = self.members(selection, self.keys(dataset_id))
        rows = frame.loc[frame["unique_id"].isin(chosen)]
        out = rows.groupby("ds", sort=True).agg(y=("y", "sum"), outliers=("is_outlier", "sum"))
        return out.reset_index()

    # -- forecasts -----------------------------------------------------------------------------

    def forecast(
        self,
        horizon: int,
        selection: Selection = Selection(),
        model: str | None = None,
        drivers: dict[str, list[float] | float] | None = None,
    ) -> pd.DataFrame:
        """``ds, yhat, lo80, hi80, lo95, hi95`` summed over the selection.

        The stored forecast answers when it covers the request; otherwise the
        production model forecasts. The bands of a sum of series are calibrated on
        the sum's own validation errors (``forecasting.group_bands``).
        """
        if horizon < 1:
            raise DataError(f"The horizon must be at least 1 period, got {horizon}.")
        prod = self.production()
        if model not in (None, "selected") and model not in prod.serving.models:
            raise UnknownSelection(
                f"Unknown model {model!r}; trained: {', '.join(prod.serving.models)} "
                "(see GET /api/models)."
            )
        chosen = self.members(selection, prod.keys)
        unknown = sorted(set(drivers or {}) - set(prod.serving.spec.exog))
        if unknown:
            raise DataError(
                f"{', '.join(unknown)} is not a driver of the production model; its drivers: "
                f"{', '.join(prod.serving.spec.exog) or 'none'}."
            )
        covers = model in (None, "selected") and not drivers and prod.stored_horizon >= horizon
        if covers:
            rows = prod.stored.loc[prod.stored["unique_id"].isin(chosen)]
            rows = rows.groupby("unique_id", sort=False).head(horizon)
        elif drivers:
            future = self._future(prod, horizon, drivers)
            rows = prod.serving.forecast(horizon, future, model=model, series=chosen)
        else:
            plan = self.plan(prod.dataset_id)
            rows, _ = forecast_with_plan(prod.serving, horizon, plan, model, chosen)
        step = rows.groupby("unique_id", sort=False).cumcount()
        rows = rows.assign(extrapolated=step >= prod.serving.horizon)
        return prod.serving.sum_forecast(rows)

    def how_served(self, selection: Selection, model: str | None = None) -> str | None:
        """In words, what forecasts the selection: one series' ladder step and model, or
        how many of a group's series keep a ladder forecast whatever model is asked."""
        details = self.series_details()
        if details is None:
            return None
        prod = self.production()
        chosen = self.members(selection, prod.keys)
        rows = details.set_index("unique_id").reindex(chosen)
        asked = model not in (None, "selected")
        on_rung = rows["served_by"].isin(LADDER_RUNGS)
        if len(rows) == 1:
            row = rows.iloc[0]
            served = row["served_by"] if not asked or on_rung.iloc[0] else model
            text = f"{chosen[0]}: {row['step']}; served by {served}"
            if asked and on_rung.iloc[0]:
                text += f", whatever model is chosen ({model} has nothing to fit here)"
            return text + "."
        if asked and on_rung.any():
            return (
                f"{int(on_rung.sum())} of {len(rows)} series here are new or have never sold: "
                f"they keep their level or zero forecast, whatever model is chosen."
            )
        return None

    def series_ladder(self, dataset_id: int | None = None) -> tuple[pd.DataFrame, str]:
        """Every series' ladder step and demand class, and where the table comes from: the
        production run when it serves this data set, else the data set's EDA report."""
        dataset_id = dataset_id or self.dataset_id()
        if dataset_id == self.dataset_id():
            details = self.series_details()
            if details is not None:
                return details, "the production run"
        report = self.eda(dataset_id)
        table = pd.DataFrame(report["series"])
        if "tier" not in table:
            raise DataError("This data set's EDA report predates demand classes; re-run EDA.")
        freq = report["overview"].get("freq_name", "")
        table["step"] = [
            describe_step(t, p, freq) for t, p in zip(table["tier"], table["periods"], strict=True)
        ]
        return table, "the EDA report (at the usual horizon; training decides what serves)"

    def series_details(self) -> pd.DataFrame | None:
        """Per series of the production run: ladder step, demand class, what serves it."""
        if not self.has_production():
            return None
        prod = self.production()
        if prod.dataset_id != self.dataset_id():
            return None
        with self._lock:
            if prod.series is None:
                try:
                    prod.series = self.system.artifacts.load(prod.run["id"], "series")
                except FileNotFoundError:  # a run from before the ladder
                    prod.series = prod.serving.series_table().assign(diverged="")
            return prod.series

    def _future(self, prod: Production, horizon: int, drivers: dict | None) -> pd.DataFrame:
        """The what-if plan: the values given, and for the drivers not given the file's
        plan where it has one, else each driver's last season repeated."""
        spec = prod.serving.spec
        tail = prod.serving.driver_tail  # None for models saved before it was kept
        if tail is None:
            tail = driver_tail(self.history_frame(prod.dataset_id), spec)
        future = repeat_last_season(tail, spec, horizon)
        plan = self.plan(prod.dataset_id)
        if plan is not None:
            known = future[["unique_id", "ds"]].merge(plan, on=["unique_id", "ds"], how="left")
            for name in spec.exog:
                if name in known:
                    future[name] = known[name].fillna(future[name]).to_numpy(float)
        for name, given in (drivers or {}).items():
            values = _driver_values(name, given if isinstance(given, list) else [given])
            if len(values) not in (1, horizon):
                raise DataError(f"Driver {name!r} needs 1 or {horizon} values, got {len(values)}.")
            step = future.groupby("unique_id", sort=False).cumcount()
            values = pd.Series(values * (horizon if len(values) == 1 else 1))
            future[name] = step.map(values).to_numpy(float)
        return future

    # -- results and reports -------------------------------------------------------------------

    def model_table(self, run_id: int | None = None) -> list[dict]:
        run_id = run_id or self.production_run_id()
        return [] if run_id is None else model_results(self.system.db, run_id)

    def run_artifact(self, name: str, run_id: int | None = None):
        """A stored frame of a run (``per_series`` test metrics, ``backtest`` forecasts)."""
        run_id = run_id or self.production_run_id()
        if run_id is None:
            raise DataError("No model serves yet.")
        return self.system.artifacts.load(run_id, name)

    def feature_importance(self) -> dict[str, dict[str, float]]:
        fitted = self.production().serving.fitted
        out = {}
        for name, model in fitted.items():
            importance = model.feature_importance()
            if importance is not None:
                out[name] = importance.round(6).to_dict()
        return out

    def eda(self, dataset_id: int | None = None) -> dict:
        dataset_id = dataset_id or self.dataset_id()
        if dataset_id is None:
            raise DataError("No data set is stored yet: upload a CSV first.")
        path = report_dir(self.system.settings.reports_dir, dataset_id) / "report.json"
        if not path.is_file():
            raise DataError(f"Data set version {dataset_id} has no EDA report yet.")
        return {"dataset_id": dataset_id, **json.loads(path.read_text())}

    def eda_figure(self, name: str, dataset_id: int | None = None) -> str | None:
        """A saved Plotly figure as JSON text, or None when the report has no such figure."""
        dataset_id = dataset_id or self.dataset_id()
        if dataset_id is None or not name.isidentifier():
            return None
        path = report_dir(self.system.settings.reports_dir, dataset_id) / f"{name}.json"
        return path.read_text() if path.is_file() else None

    def dataset(self, dataset_id: int | None = None) -> dict | None:
        dataset_id = dataset_id or self.dataset_id()
        return dataset_info(self.system.db, dataset_id) if dataset_id else None

    def quantity(self, dataset_id: int | None = None) -> tuple[str, Frequency]:
        """What the data set measures (its target column's name) and its frequency."""
        info = self.dataset(dataset_id) or {}
        detected = (info.get("mapping") or {}).get("mapping") or {}
        return detected.get("target") or "sales", frequency_from_alias(info.get("freq") or "D")


def production_forecast(
    system: System,
    horizon: int,
    series: list[str] | None = None,
    model: str | None = None,
    future_csv: Path | None = None,
) -> tuple[pd.DataFrame, int]:
    """Per-series production forecast for the command line (every series, or some)."""
    if horizon < 1:
        raise DataError(f"--horizon must be at least 1, got {horizon}.")
    service = ForecastService(system)
    prod = service.production()
    serving = prod.serving
    future = None
    if serving.spec.exog:
        if future_csv is None:
            future = service._future(prod, horizon, None)
        else:
            future = read_plan_csv(future_csv, serving.spec.exog)
    return serving.forecast(horizon, future, model=model, series=series), prod.dataset_id


def _driver_values(name: str, values: list) -> list[float]:
    """Planned values as numbers within the upload limit; a ``DataError`` saying which not."""
    limit = Limits().max_abs_value
    out = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DataError(f"Driver {name!r} needs numbers, got {value!r}.") from None
        if not math.isfinite(number) or abs(number) > limit:
            raise DataError(
                f"Driver {name!r} got {value!r}; give a finite number of at most {limit:g} in size."
            )
        out.append(number)
    return out


#: what the ladder serves without a model: a never-sold series' zeros, a new one's level
LADDER_RUNGS = tuple(RUNGS.values())


def group_members(group: str, keys: pd.DataFrame) -> list[str]:
    """The series of ``column=value``; the column's and the value's case do not matter
    (a planner types ``store=berlin`` for the file's ``Store``/``Berlin``)."""
    asked_col, sep, value = group.partition("=")
    columns = {c.lower(): c for c in keys.columns.drop(["unique_id", "total"], errors="ignore")}
    col = columns.get(asked_col.strip().lower())
    if not sep or col is None:
        known = ", ".join(columns.values()) or "none: the data set has one id column"
        raise UnknownSelection(
            f"Unknown group {group!r}; use column=value with a column of: {known}."
        )
    values = keys[col].astype(str)
    exact = values == value
    chosen = keys.loc[exact if exact.any() else values.str.lower() == value.lower(), "unique_id"]
    if chosen.empty:
        hint = did_you_mean(value, sorted(values.unique()))
        raise UnknownSelection(f"No series has {group!r};{hint} see GET /api/series.")
    return chosen.tolist()


def did_you_mean(asked: str, known: list[str]) -> str:
    """Up to three ids that contain what was asked, or look like it (``0001`` -> ``part=0001``)."""
    containing = [k for k in known if asked.lower() in k.lower()]
    close = containing[:3] or difflib.get_close_matches(asked, known, n=3, cutoff=0.6)
    return f" did you mean {', '.join(map(repr, close))}?" if close else ""
