"""Overview: headline numbers, history with the latest forecast, and how the models compare."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashapp import components as ui
from dashapp import figures
from dashapp.state import app_state
from forecasting.errors import DataError
from pipeline.serve import baseline_metrics

dash.register_page(__name__, path="/", name="Overview", order=0, title="Overview")


def layout(**_):
    service = app_state().service
    if service.dataset_id() is None:
        return html.Div([html.H2("Overview"), ui.no_model_notice()])
    return html.Div(
        [
            html.H2("Overview"),
            html.P(
                "Sales so far and the forecast the production model serves, for all series "
                "together, one group or one series.",
                className="text-muted",
            ),
            ui.series_selector("overview-series", service.series_options()),
            ui.loading(dbc.Row(id="overview-kpis")),
            ui.loading(dcc.Graph(id="overview-chart", config={"displaylogo": False})),
            html.P(ui.INTERVAL_NOTE, className="small text-muted"),
            ui.loading(dcc.Graph(id="overview-models", config={"displaylogo": False})),
        ]
    )


@callback(
    Output("overview-kpis", "children"),
    Output("overview-chart", "figure"),
    Output("overview-models", "figure"),
    Input("overview-series", "value"),
)
def update(selector):
    service = app_state().service
    selection = ui.parse_selector(selector)
    history = service.history(selection)
    forecast, kpis = None, []
    total = history["y"].sum()
    kpis.append(ui.kpi_card("Total sales", f"{total:,.0f}", f"{len(history)} periods"))
    kpis.append(ui.kpi_card("Average per period", f"{history['y'].mean():,.1f}"))
    window = min(28, len(history) // 2)
    recent = history["y"].tail(window).sum()
    before = history["y"].iloc[-2 * window : -window].sum() if window else 0
    growth = f"{(recent / before - 1) * 100:+.1f}%" if before else "n/a"
    kpis.append(
        ui.kpi_card("Recent growth", growth, f"last {window} periods vs the {window} before")
    )
    models = []
    if service.has_production():
        prod = service.production()
        try:
            forecast = service.forecast(prod.serving.horizon, selection)
        except DataError:
            forecast = None
        metrics = prod.run["metrics"] or {}
        models = service.model_table(prod.run["id"])
        baseline = baseline_metrics(models) or {}
        kpis.append(
            ui.kpi_card(
                "Production model",
                prod.run["selected_model"],
                f"held-out MASE {metrics.get('mase', float('nan')):.3f} vs seasonal naive "
                f"{baseline.get('mase', float('nan')):.3f}",
                id_="overview-production",
            )
        )
    else:
        kpis.append(ui.kpi_card("Production model", "none yet", "train one on Retraining"))
    chart = figures.history_with_forecast(
        history, forecast, f"Sales and forecast: {selection.label}"
    )
    comparison = (
        figures.model_comparison(models) if models else figures.empty("No trained models yet")
    )
    return kpis, chart, comparison
