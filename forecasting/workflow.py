"""The forecasting workflow: tune and validate every model, select, refit, forecast with intervals.

``train_and_forecast`` is what the product runs on all history; ``backtest``
runs it on everything but the last ``h`` periods of every series and scores
the result on those held-out periods, which nothing before has seen. Every
series given in gets a forecast: the models are fitted to the series with
history to fit (the ``short`` and ``long`` steps of ``forecasting.data.ladder``),
the others are served by the ``level`` and ``zero`` rules.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Protocol

import pandas as pd

from forecasting.data.ladder import mark_ended, profile_series, series_table
from forecasting.data.spec import DataSpec
from forecasting.evaluation.backtest import holdout_split, min_train
from forecasting.evaluation.costs import Shape, workflow_plan
from forecasting.evaluation.drivers import DriverChoice, screen_drivers
from forecasting.evaluation.intervals import LEVELS, coverage, coverage_by_step
from forecasting.evaluation.metrics import METRIC_NAMES, evaluate, summarize
from forecasting.evaluation.options import TrainOptions
from forecasting.evaluation.screening import Screen
from forecasting.evaluation.selection import Selection, select
from forecasting.evaluation.tuning import TuningResult
from forecasting.evaluation.validation import select_served, validate_models
from forecasting.models import MODELS, Forecaster
from forecasting.models.base import forecast_grid
from forecasting.progress import Pacing, Reporter
from forecasting.serving.build import Totals, build_serving
from forecasting.serving.effects import driver_effects, group_effects
from forecasting.serving.model import SERVED, SERVED_WITHOUT_PLAN, ServingModel
from forecasting.serving.series_facts import SeriesFacts, ruled_series

log = logging.getLogger(__name__)


@dataclass
class ForecastOutcome:
    """Everything a run produces: the served forecast, each model's, and how it was chosen."""

    forecast: pd.DataFrame
    per_model: pd.DataFrame
    selection: Selection
    tuning: dict[str, TuningResult]
    fitted: dict[str, Forecaster]
    seconds: dict[str, float] = field(default_factory=dict)
    serving: ServingModel | None = None
    #: per series: ladder step, demand class and history length (``ladder.profile_series``)
    profile: pd.DataFrame | None = None
    #: the candidate drivers and which the models use
    drivers: DriverChoice | None = None
    #: what the sample said of each expensive model (``forecasting.evaluation.screening``)
    screens: list[Screen] = field(default_factory=list)
    #: per model, the series whose held-out forecast diverged and was replaced (and why)
    replaced: dict[str, dict[str, str]] = field(default_factory=dict)
    #: where drivers serve and a plan was given: the forecast without it (what serves
    #: the periods no plan covers), scored next to the planned one
    unplanned: pd.DataFrame | None = None
    #: models left out because their fit, validation or tuning failed, and why
    failed: dict[str, str] = field(default_factory=dict)
    #: the data spec the models were fitted with, where no one serving model holds it
    #: (a backtest over partitions: ``forecasting.partitioned``)
    fitted_spec: DataSpec | None = None
    #: the series whose held-out forecast a plan moves, where no one serving model holds
    #: them (a backtest over partitions counts each partition's)
    plan_moves: int | None = None

    @property
    def spec(self) -> DataSpec | None:
        """The data spec the models were fitted with (only the drivers kept)."""
        return self.serving.spec if self.serving is not None else self.fitted_spec

    def fallbacks(self) -> dict[str, dict[str, str]]:
        return {name: m.fallbacks_ for name, m in self.fitted.items() if m.fallbacks_}

    def series_report(self) -> list[dict]:
        """Per series: ladder step, demand class, history and what serves it."""
        if self.profile is None:
            return []
        freq = self.spec.freq.name if self.spec is not None else ""
        return series_table(self.profile, self.selection.choice, freq).to_dict(orient="records")

    def diverged(self) -> dict[str, dict[str, str]]:
        """Per model, the series whose forecast diverged and was replaced, in any fit."""
        out: dict[str, dict[str, str]] = {n: dict(s) for n, s in self.replaced.items()}
        for name, result in self.tuning.items():
            out.setdefault(name, {}).update(result.diverged)
        return {name: series for name, series in out.items() if series}


def train_and_forecast(
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    options: TrainOptions | None = None,
    future: pd.DataFrame | None = None,
    reporter: Reporter | None = None,
) -> ForecastOutcome:
    """Tune and cross-validate each model, select, refit on all of ``df`` and forecast ``h``."""
    options = options or TrainOptions()
    reporter = reporter or Reporter()
    if not options.constraints:
        spec = replace(spec, constrained=False)
    h_val = validation_horizon(df, h, spec.season_length)
    if h_val < h:
        log.warning(
            "no series is long enough to validate %d periods ahead: validated %d ahead instead; "
            "bands further out are extrapolated",
            h,
            h_val,
        )
    profile = profile_series(df, h_val, spec.season_length)
    modelled = fitted_rows(df, profile)
    options, sat_out = options.for_panel(modelled["unique_id"].nunique(), bool(spec.exog))
    names = options.model_names()
    screening = len(spec.exog) if options.drivers == "auto" else 0
    shape = Shape.of(modelled, spec.season_length)
    parts = workflow_plan(shape, names, options.screened(), options.n_windows, h_val, screening)
    pacing = Pacing(reporter, parts)
    pacing.part("drivers").report(0.0, "screening the drivers" if screening else "")
    spec, drivers = choose_drivers(modelled, profile, spec, h_val, options)
    pacing.finish("drivers")
    screens: list[Screen] = []
    failed: dict[str, str] = {}
    if modelled.empty:  # nothing has sold yet, or only new products: the rules serve
        tuning, selection = {}, select({}, pd.DataFrame(), options.selection, profile=profile)
    else:
        tuning, screens, scales = validate_models(
            modelled, spec, h_val, options, pacing, profile, failed
        )
        selection = select_served(tuning, scales, options, profile, bool(spec.exog))
    screens = [Screen.sat_out(m, why, 1) for m, why in sat_out.items()] + screens
    seconds = {name: result.seconds for name, result in tuning.items()}
    started = time.perf_counter()
    last_fits = {name: result.model for name, result in tuning.items() if result.model}
    # as production fits them: the served models afresh, the others moved forward
    served = selection.served_models()
    fitted = fit_models(modelled, spec, tuning, pacing.part("forecast"), last_fits, served)
    model = build_serving(fitted, selection, df, spec, h_val, profile)
    served, per_model = model.forecast_with_members(h, future, every_model=True)
    # what a planner gets where no plan reaches: scored next to the planned forecast
    unplanned = model.forecast(h) if spec.exog and future is not None else None
    seconds["refit"] = time.perf_counter() - started
    pacing.finish("bands and scores", "forecast ready")
    return ForecastOutcome(
        served,
        per_model,
        selection,
        tuning,
        fitted,
        seconds,
        model,
        profile,
        drivers,
        screens,
        per_model.attrs.get("diverged", {}),
        unplanned,
        failed,
    )


def choose_drivers(
    df: pd.DataFrame, profile: pd.DataFrame, spec: DataSpec, h: int, options: TrainOptions
) -> tuple[DataSpec, DriverChoice]:
    """The spec with the drivers validation keeps (``options.drivers == "auto"``) or all."""
    if not spec.exog or options.drivers == "all":
        report = {name: {"used": True, "named": True} for name in spec.exog}
        named = DriverChoice(spec.exog, report)
        for line in named.describe():
            log.info("driver %s", line)
        return spec, named
    long = df.loc[df["unique_id"].isin(profile.index[profile["ladder_step"] == "long"])]
    choice = screen_drivers(long, spec, h, options.n_windows, spec.exog)
    for line in choice.describe():
        log.info("driver %s", line)
    return replace(spec, exog=choice.used), choice


class Catalogue(Protocol):
    """What ``production_model`` reads of a history it is not given as one frame: a
    catalogue's, a partition at a time (``forecasting.partitioned_serving.Catalogue``)."""

    def profile(self, h: int, season_length: int) -> pd.DataFrame: ...

    def final_fits(
        self,
        profile: pd.DataFrame,
        spec: DataSpec,
        tuning: dict[str, TuningResult],
        served: set[str],
        reporter: Reporter | None = None,
    ) -> dict[str, Forecaster]: ...

    def facts(self, spec: DataSpec, profile: pd.DataFrame, on_rule: pd.Index) -> SeriesFacts: ...

    def totals_rows(self, selection: Selection, facts: SeriesFacts) -> pd.DataFrame: ...


def production_model(
    df: pd.DataFrame | None,
    spec: DataSpec,
    h: int,
    outcome: ForecastOutcome,
    reporter: Reporter | None = None,
    plan: pd.DataFrame | None = None,
    stored_horizon: int | None = None,
    catalogue: Catalogue | None = None,
) -> ServingModel:
    """Serve a backtest's validated choice on all history, extended by the ladder to every
    series as it stands now: the served models are fitted afresh on all of it, the others
    (which the Forecast page may still be asked for) moved forward to it. The model
    forecasts with the data set's ``plan``; with ``stored_horizon`` (the periods a run
    stores) its totals are made as the backtest's validation folds say. ``catalogue``
    reads the history in place of ``df`` (a catalogue's, a partition at a time:
    ``forecasting.partitioned_serving.Catalogue``)."""
    h_val = outcome.serving.horizon if outcome.serving is not None else h
    if catalogue is not None:
        profile = catalogue.profile(h_val, spec.season_length)
    else:
        profile = mark_ended(profile_series(df, h_val, spec.season_length), df)
    short_ok = {name for name in outcome.tuning if MODELS[name].short_ok}
    seasonal = {name for name in outcome.tuning if MODELS[name].needs_whole_season}
    selection = outcome.selection.for_profile(profile, short_ok, seasonal)
    spec = outcome.spec or spec
    served = selection.served_models()
    facts = None
    if catalogue is not None:  # its partitions hold the rows
        fitted = catalogue.final_fits(profile, spec, outcome.tuning, served, reporter)
        facts = catalogue.facts(spec, profile, ruled_series(profile, selection.choice))
        df = catalogue.totals_rows(outcome.selection, facts)
    else:
        modelled = fitted_rows(df, profile)
        fitted = {}
        if len(modelled):
            fitted = fit_models(
                modelled,
                spec,
                outcome.tuning,
                reporter,
                outcome.fitted,
                served,
                "final fit on all history:",
            )
    totals = Totals(outcome.selection, stored_horizon) if stored_horizon else None
    return build_serving(fitted, selection, df, spec, h_val, profile, plan, totals, facts=facts)


def plan_moves(serving: ServingModel) -> int:
    """How many of ``serving``'s series a plan moves (their forecast reads the drivers)."""
    series = list(serving.choice.index)
    return len(series) - len(serving.driver_free(series))


def validation_horizon(df: pd.DataFrame, h: int, season_length: int) -> int:
    """``h``, or the longest horizon the longest series can be validated for (a 12-month
    horizon on 24 months of history is validated 11 months ahead, not left unvalidated)."""
    longest = int(df.groupby("unique_id", sort=False).size().max()) if len(df) else 0
    return horizon_for(longest, h, season_length)


def horizon_for(longest: int, h: int, season_length: int) -> int:
    """``validation_horizon`` of a panel whose longest series has ``longest`` periods."""
    for k in range(h, 0, -1):
        if longest >= k + min_train(k, season_length):
            return k
    return h  # nothing can be validated at any horizon: the ladder decides


def _by_step(table: pd.DataFrame | None) -> dict:
    if table is None:
        return {}
    return {level: table[level].round(4).tolist() for level in table.columns}


def fitted_rows(df: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """The rows of the series the models are fitted to (the ladder's short and long steps)."""
    modelled = profile.index[profile["ladder_step"].isin(["short", "long"])]
    if len(modelled) == len(profile):
        return df
    return df.loc[df["unique_id"].isin(modelled)]


def fit_models(
    df: pd.DataFrame,
    spec: DataSpec,
    tuning: dict[str, TuningResult],
    reporter: Reporter | None = None,
    previous: dict[str, Forecaster] | None = None,
    fresh: set[str] = frozenset(),
    purpose: str = "held-out forecast:",
) -> dict[str, Forecaster]:
    """Every model on all of ``df``: its ``previous`` fit moved forward (``Forecaster.moved``),
    or where it is in ``fresh`` refitted for serving (``Forecaster.refitted``: afresh with
    its tuned parameters, unless the model narrows its search around what validation
    found); fitted afresh where it has no previous fit."""
    reporter = reporter or Reporter()
    fitted: dict[str, Forecaster] = {}
    for i, (name, result) in enumerate(tuning.items()):
        reporter.check_cancelled()
        reporter.report(i / len(tuning), f"{purpose} {name}")
        started = time.perf_counter()
        before = (previous or {}).get(name)
        if before is None:
            fitted[name] = MODELS[name](**result.params).fit(df, spec)
            how = "fitted on"
        elif name in fresh:
            fitted[name] = before.refitted(df)
            how = "refitted on"
        else:
            fitted[name] = before.moved(df)
            how = "moved to"
        log.info("%s %s %d rows in %.1fs", name, how, len(df), time.perf_counter() - started)
    return fitted


@dataclass
class BacktestReport:
    """Held-out accuracy of every model and of the served forecast."""

    outcome: ForecastOutcome
    actuals: pd.DataFrame
    per_series: pd.DataFrame
    summary: pd.DataFrame
    coverage: dict[str, float]
    seconds: float
    #: interval coverage at each horizon step (rows 1..h, a column per level)
    coverage_by_step: pd.DataFrame | None = None
    #: where drivers serve: the coverage of the forecast made without their plan
    coverage_without_plan: dict[str, float] | None = None
    #: and its coverage at each horizon step
    coverage_by_step_without_plan: pd.DataFrame | None = None

    def effects(self) -> list[dict]:
        """The served model's price elasticities and promotion lifts over all series."""
        if self.outcome.serving is None or not self.outcome.serving.spec.exog:
            return []
        return group_effects(driver_effects(self.outcome.serving), None).to_dict("records")

    def holdout(self) -> dict | None:
        """Where drivers serve, the held-out scores with the true drivers (what the plan
        would give) and without them (what a planner gets beyond the plan)."""
        if self.coverage_without_plan is None or SERVED_WITHOUT_PLAN not in self.summary.index:
            return None

        def scores(row: str, cov: dict[str, float]) -> dict:
            table = self.summary.loc[row, list(METRIC_NAMES)]
            out = {m: round(float(v), 4) for m, v in table.items() if pd.notna(v)}
            return out | {f"coverage{k}": round(v, 4) for k, v in cov.items()}

        serving = self.outcome.serving
        moves = self.outcome.plan_moves if serving is None else plan_moves(serving)
        return {
            "with_plan": scores(SERVED, self.coverage),
            "without_plan": scores(SERVED_WITHOUT_PLAN, self.coverage_without_plan),
            # where none, the two are one forecast: no "perfect plan" to speak of
            "series_a_plan_moves": moves,
        }

    def to_json(self, dataset: dict, h: int) -> dict:
        cols = list(METRIC_NAMES)
        table = self.summary[cols].round(4)
        models = {
            name: table.loc[name].to_dict()
            for name in table.index
            if name not in (SERVED, SERVED_WITHOUT_PLAN)
        }
        choice = self.outcome.selection.choice
        name = choice.iloc[0] if choice.nunique() == 1 else f"per-series ({choice.nunique()} kinds)"
        return {
            "dataset": dataset,
            "horizon": h,
            "models": models,
            "selected": {
                "name": name,
                "metrics": table.loc[SERVED].to_dict(),
                "by_series": choice.value_counts().to_dict(),
            },
            "coverage": {k: round(v, 4) for k, v in self.coverage.items()},
            "coverage_by_step": _by_step(self.coverage_by_step),
            "holdout": self.holdout(),
            "effects": self.effects(),
            "series": self.outcome.series_report(),
            "diverged": self.outcome.diverged(),
            "drivers": self.outcome.drivers.report if self.outcome.drivers else {},
            "choice_tests": [d.to_dict() for d in self.outcome.selection.tests()],
            "failed": self.outcome.failed,
            "screened": [screen.to_dict() for screen in self.outcome.screens],
            "seconds": round(self.seconds, 1),
        }


def backtest(
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    options: TrainOptions | None = None,
    reporter: Reporter | None = None,
) -> BacktestReport:
    """Hold out the last ``h`` periods of every series, run the workflow on the rest, score."""
    started = time.perf_counter()
    train, test = holdout_split(df, h)
    future = known_future(train, test, h, spec) if spec.exog else None
    outcome = train_and_forecast(train, spec, h, options, future=future, reporter=reporter)
    scored = HeldOut.of(outcome, train, test, spec.season_length)
    return scored.report(outcome, time.perf_counter() - started)


@dataclass
class HeldOut:
    """A backtest's forecasts next to the held-out rows, scored per series; the held-out
    rows of a panel's parts concatenate (``HeldOut.joined``) into the panel's."""

    actuals: pd.DataFrame
    per_series: pd.DataFrame
    #: where drivers serve and a plan was given: the forecast made without the plan
    unplanned: pd.DataFrame | None = None

    @classmethod
    def of(
        cls, outcome: ForecastOutcome, train: pd.DataFrame, test: pd.DataFrame, season_length: int
    ) -> HeldOut:
        actuals = test[["unique_id", "ds", "y"]].merge(outcome.per_model, on=["unique_id", "ds"])
        actuals = actuals.merge(
            outcome.forecast.rename(columns={"yhat": SERVED}), on=["unique_id", "ds"]
        )
        names = [*outcome.per_model.columns.drop(["unique_id", "ds"]), SERVED]
        unplanned = None
        if outcome.unplanned is not None:
            bands = ["yhat", *[f"{side}{level}" for level in LEVELS for side in ("lo", "hi")]]
            unplanned = test[["unique_id", "ds", "y"]].merge(
                outcome.unplanned[["unique_id", "ds", *bands]], on=["unique_id", "ds"]
            )
            actuals[SERVED_WITHOUT_PLAN] = (
                actuals[["unique_id", "ds"]]
                .merge(unplanned, on=["unique_id", "ds"], how="left")["yhat"]
                .to_numpy()
            )
            names.append(SERVED_WITHOUT_PLAN)
        return cls(actuals, evaluate(actuals, train, names, season_length), unplanned)

    @classmethod
    def joined(cls, parts: list[HeldOut]) -> HeldOut:
        unplanned = [p.unplanned for p in parts if p.unplanned is not None]
        return cls(
            pd.concat([p.actuals for p in parts], ignore_index=True),
            pd.concat([p.per_series for p in parts], ignore_index=True),
            pd.concat(unplanned, ignore_index=True) if unplanned else None,
        )

    def report(self, outcome: ForecastOutcome, seconds: float) -> BacktestReport:
        """The scores over every series: means of the per-series scores, pooled WAPE and
        bias, and the bands' coverage."""
        report = BacktestReport(
            outcome,
            self.actuals,
            self.per_series,
            summarize(self.per_series, self.actuals),
            coverage(self.actuals, LEVELS),
            seconds,
            coverage_by_step(self.actuals, LEVELS),
        )
        if self.unplanned is not None:
            report.coverage_without_plan = coverage(self.unplanned, LEVELS)
            report.coverage_by_step_without_plan = coverage_by_step(self.unplanned, LEVELS)
        return report


def known_future(train: pd.DataFrame, test: pd.DataFrame, h: int, spec: DataSpec):
    """The drivers of the ``h`` periods after each series' training end: the held-out rows'
    values, carried forward past the end of a series held out for fewer than ``h``."""
    grid = forecast_grid(train.groupby("unique_id", sort=False)["ds"].max(), h, spec)
    cols = ["unique_id", "ds", *spec.exog]
    future = grid.merge(test[cols], on=["unique_id", "ds"], how="left")
    future[list(spec.exog)] = future.groupby("unique_id", sort=False)[list(spec.exog)].ffill()
    return future
