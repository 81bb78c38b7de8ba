"""The overview page's callbacks (its layout: ``dashapp.pages.overview``)."""

from __future__ import annotations

from dash import Input, Output, html

from dashapp import components as ui
from dashapp import figures, loop_views
from dashapp.callbacks.registry import callback
from dashapp.state import app_state
from forecasting.data.frequency import period_unit
from forecasting.data.ladder import QUIET_STOP
from forecasting.errors import DataError
from forecasting.serving.requests import ForecastRequest
from pipeline import serving
from pipeline.formatting import (
    behind_baseline,
    counted,
    label,
    percent,
    served_in_scope,
    without_plan,
)
from pipeline.serving import queries, reports
from storage.datasets import latest_dataset_id


@callback(
    Output("overview-kpis", "children"),
    Output("overview-chart", "figure"),
    Output("overview-chart-title", "children"),
    Output("overview-models", "figure"),
    Output("overview-why-area", "children"),
    Output("overview-loop", "children"),
    Input("overview-series", "value"),
)
def update(selector):
    reads = app_state().reads
    scope = ui.parse_selector(selector)
    history = queries.history(reads, scope)
    quantity, freq = reports.quantity(reads)
    unit = period_unit(freq)
    forecast, kpis = None, []
    total = history["y"].sum()
    filled = history["filled_y"].sum()
    # a stranger's total was 4,572 above their file's: the interpolated weeks, unsaid
    made_up = f"; {filled:,.0f} of it filled in where the file had no value" if filled else ""
    kpis.append(
        ui.kpi_card(f"Total {quantity}", f"{total:,.0f}", f"{len(history)} {unit}{made_up}")
    )
    kpis.append(ui.kpi_card(f"Average per {unit.rstrip('s')}", f"{history['y'].mean():,.1f}"))
    kpis.append(ui.growth_card(history["y"], freq))
    models, why, loop = [], [], []
    if reads.serves():
        prod = reads.serving_run()
        try:
            request = ForecastRequest(prod.serving.horizon)
            forecast = serving.forecast(reads, request, scope).summed()
        except DataError:
            forecast = None
        metrics = prod.run["metrics"] or {}
        models = reports.model_table(reads, prod.run["id"])
        baseline = reports.baseline_metrics(models) or {}
        chosen = queries.members(scope, prod.keys)
        shown, served = served_in_scope(prod.serving.stored_choice(), chosen)
        scoped = reports.scope_scores(reads, chosen)
        past_plan = without_plan(metrics, scoped)
        kpis.append(
            ui.kpi_card(
                "Production model",
                shown,
                _sentences(
                    f"{served}run {prod.run['id']}: " + _held_out(scoped, metrics, baseline),
                    past_plan,
                    _coverage(metrics),
                ),
                id_="overview-production",
            )
        )
        said = (
            ("why", loop_views.why_sentence(prod.run)),
            ("earlier", loop_views.realised_sentence(reads, prod.run["id"])),
        )
        why = [html.P(s, className="small", id=f"overview-{k}") for k, s in said if s]
        warning = behind_baseline(metrics, baseline)
        if warning:
            why.insert(0, html.P(warning, className="small text-danger", id="overview-behind"))
        stopped = _quiet_stops(reads, chosen)
        if stopped:
            why.insert(0, html.P(stopped, className="small text-warning", id="overview-stopped"))
        newer = _newer_actuals(reads)
        if newer:
            why.insert(0, html.P(newer, className="small", id="overview-newer"))
        loop = loop_views.last_forecast_section(reads, scope, quantity)
    else:
        kpis.append(ui.kpi_card("Production model", "none yet", "train one on Retraining"))
    chart = figures.history_with_forecast(history, forecast, quantity)
    comparison = (
        figures.model_comparison(models) if models else figures.empty("No trained models yet")
    )
    return kpis, chart, f"{quantity} and forecast: {scope.label}", comparison, why, loop


def _held_out(scoped: dict | None, metrics: dict, baseline: dict) -> str:
    """The held-out scores of the series shown against seasonal naive's, and the run's
    over every series beside them (the run's alone read as the series')."""

    def versus(ours: dict, naive: dict) -> str:
        return (
            f"WAPE {percent(ours.get('wape'))} vs seasonal naive {percent(naive.get('wape'))}; "
            f"MASE {label(ours.get('mase'))} vs {label(naive.get('mase'))}"
        )

    run = versus(metrics, baseline)
    if not scoped or "served" not in scoped:
        return f"held-out {run}"
    n = scoped["series"]
    here = "this series" if n == 1 else f"these {n:,} series"
    shown = versus(scoped["served"], scoped.get("baseline", {}))
    return f"held-out on {here}: {shown} (all series: {run})"


def _coverage(metrics: dict) -> str:
    """How much of the held-out actuals the run's bands held (the page's note says what
    they are built to hold: a stranger's held 73.5% and 88.9%)."""
    inside = [metrics.get(f"coverage{level}") for level in (80, 95)]
    if any(v is None for v in inside):
        return ""
    return (
        f"Its 80% and 95% bands held {inside[0]:.1%} and {inside[1]:.1%} of the held-out "
        "values (all series)"
    )


def _sentences(*said: str | None) -> str:
    """The card's sentences, each ended once (a stranger read "WAPE 16.4%.. Its")."""
    return ". ".join(s.rstrip(".") for s in said if s) + "."


def _quiet_stops(reads, shown: list[str]) -> str | None:
    """Where series shown look delisted, said on the group's view too: a stranger's region
    was forecast above its 95% band by a delisted SKU whose warning was on the SKU alone."""
    details = queries.series_details(reads)
    if details is None or len(shown) < 2:
        return None
    notes = details.set_index("unique_id")["ladder_note"].reindex(shown).dropna()
    quiet = notes.index[notes.str.contains(QUIET_STOP, regex=False)]
    if quiet.empty:
        return None
    return (
        f"{counted(len(quiet), 'series', 'series')} here sold nothing in their last periods, which "
        f"their history makes unlikely (e.g. {quiet[0]}): {QUIET_STOP} Their forecasts "
        "may show sales again (above all under a plan of drivers) and lift this one; drop "
        "their rows after the last sale if they stopped."
    )


def _newer_actuals(reads) -> str | None:
    """Where actuals were stored after the serving run's data, that the cards and the
    chart still show the serving run's version (a stranger took them for stale)."""
    shown, latest = reads.dataset_id(), latest_dataset_id(reads.system.db)
    if shown is None or latest is None or latest == shown:
        return None
    return (
        f"The figures and the chart show data set version {shown}, which the serving model "
        f"was trained on. Version {latest} holds the actuals stored since: the last "
        "forecast is compared with them below, and a run on Retraining serves them."
    )
