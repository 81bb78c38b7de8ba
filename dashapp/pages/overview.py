"""Overview: headline numbers, history with the latest forecast, and how the models compare.

The page's layout; what changes it is ``dashapp.callbacks.overview``.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashapp import components as ui
from dashapp import figures
from dashapp.state import app_state
from pipeline.serving import queries

dash.register_page(__name__, path="/", name="Overview", order=0, title="Overview")


def layout(**_):
    reads = app_state().reads
    if reads.dataset_id() is None:
        return html.Div([html.H2("Overview"), ui.no_model_notice()])
    return html.Div(
        [
            html.H2("Overview"),
            html.P(
                "Sales so far and the forecast the production model serves, for all series "
                "together, one group or one series.",
                className="text-muted",
            ),
            ui.series_selector("overview-series", queries.series_options(reads)),
            ui.loading(dbc.Row(id="overview-kpis")),
            html.Div(id="overview-why-area"),
            ui.chart("overview-chart"),
            html.P(ui.INTERVAL_NOTE, className="small text-muted"),
            ui.chart("overview-models", title=figures.comparison_title()),
            ui.loading(html.Div(id="overview-loop")),
        ]
    )
