"""Forecast: any horizon, any trained model, what-if drivers; chart, table and downloads.

The page's layout; what changes it is ``dashapp.callbacks.forecast``.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from dashapp import components as ui
from dashapp.state import app_state
from forecasting.data.frequency import max_horizon, period_unit
from forecasting.serving.model import SERVED
from pipeline.formatting import drivers_left_out, drivers_used
from pipeline.serving import queries

dash.register_page(__name__, path="/forecast", name="Forecast", order=1, title="Forecast")


def layout(**_):
    reads = app_state().reads
    if not reads.serves():
        return html.Div([html.H2("Forecast"), ui.no_model_notice()])
    prod = reads.serving_run()
    spec = prod.serving.spec
    limit = max_horizon(spec.freq)
    unit = period_unit(spec.freq)
    model_options = [{"label": f"Served: {prod.run['selected_model']}", "value": SERVED}]
    model_options += [{"label": m, "value": m} for m in prod.serving.models]
    drivers = list(spec.exog)
    return html.Div(
        [
            html.H2("Forecast"),
            html.P(
                f"Forecast up to {limit} {unit} ahead with the production model or any model "
                "trained in the same run.",
                className="text-muted",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        ui.series_selector("forecast-series", queries.series_options(reads)), md=5
                    ),
                    dbc.Col(
                        [
                            dbc.Label(f"Horizon ({unit})", html_for="forecast-horizon"),
                            dbc.Input(
                                id="forecast-horizon",
                                type="number",
                                min=1,
                                max=limit,
                                step=1,
                                value=min(prod.serving.horizon, limit),
                                debounce=True,
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Model", html_for="forecast-model"),
                            dcc.Dropdown(
                                id="forecast-model",
                                options=model_options,
                                value=SERVED,
                                clearable=False,
                            ),
                        ],
                        md=4,
                    ),
                ]
            ),
            _plan_panel(prod.run, drivers) if drivers else _no_plan(prod.run),
            html.Div(id="forecast-message"),
            ui.chart("forecast-chart"),
            html.P(ui.INTERVAL_NOTE, className="small text-muted"),
            dbc.ButtonGroup(
                [
                    dbc.Button("Download CSV", id="forecast-download-csv", color="secondary"),
                    dbc.Button("Download Excel", id="forecast-download-xlsx", color="secondary"),
                ],
                className="mb-3",
            ),
            dcc.Download(id="forecast-download"),
            dash_table.DataTable(
                id="forecast-table",
                page_size=15,
                **ui.TABLE_STYLE,
            ),
        ]
    )


def _no_plan(run: dict) -> html.Div:
    """Why there is no plan, and the plan's components hidden: the page's callbacks
    read them whether or not the data set has drivers."""
    return html.Div(
        [
            html.P(drivers_left_out(run), className="small text-muted", id="forecast-drivers-note"),
            html.Div(
                [
                    dash_table.DataTable(id="forecast-plan", data=[]),
                    dcc.Store(id="forecast-plan-on-file", data=[]),
                    dcc.Upload(id="forecast-plan-upload"),
                    html.Button(id="forecast-plan-reset"),
                ],
                hidden=True,
            ),
        ]
    )


def _plan_panel(run: dict, drivers: list[str]) -> html.Div:
    """The plan as a table of periods x drivers: filled with the plan on file, editable,
    or replaced by a CSV with a date column and one column per driver."""
    # cells are text: a numeric column drops "3,20" or "abc" without a word; the
    # callback reads a decimal comma and says what it cannot read
    columns = [{"name": "date", "id": "date", "editable": False}] + [
        {"name": name, "id": name, "editable": True} for name in drivers
    ]
    return html.Div(
        [
            html.H5("Plan: prices and promotions ahead"),
            html.P(
                "The models that read drivers were given these ("
                + drivers_used(run)
                + "); the note under the chart says whether what serves reads them. "
                "The table holds the plan on file for the periods shown (for a group, "
                "the mean over its series). Change a cell to see the forecast with your "
                "plan: for a group, a price changed by 10% moves every series' price by "
                "10% in that period, a promotion typed is set for all of them. A blank "
                "cell means no plan there: a price keeps its previous value, a promotion "
                "is off, and a period with no plan at all is forecast without the "
                "drivers. The chart marks the planned periods.",
                className="small text-muted",
                id="forecast-drivers-note",
            ),
            dash_table.DataTable(
                id="forecast-plan",
                columns=columns,
                editable=True,
                page_size=13,
                **ui.TABLE_STYLE,
            ),
            dcc.Store(id="forecast-plan-on-file"),
            dbc.ButtonGroup(
                [
                    dcc.Upload(
                        dbc.Button("Upload a plan (CSV)", color="secondary", size="sm"),
                        id="forecast-plan-upload",
                        accept=".csv,text/csv",
                    ),
                    dbc.Button(
                        "Back to the plan on file",
                        id="forecast-plan-reset",
                        color="link",
                        size="sm",
                    ),
                ],
                className="my-2",
            ),
        ],
        className="mb-3",
    )
