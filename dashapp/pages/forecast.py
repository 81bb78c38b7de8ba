"""Forecast: any horizon, any trained model, what-if drivers; chart, table and downloads."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, dash_table, dcc, html

from dashapp import components as ui
from dashapp import figures
from dashapp.state import app_state
from forecasting.errors import DataError
from forecasting.frequency import max_horizon, period_unit
from forecasting.requests import ForecastRequest
from forecasting.serving_model import SERVED
from pipeline import serving
from pipeline.exports import excel_bytes, protect_formulas
from pipeline.formatting import drivers_left_out, drivers_used
from pipeline.serving import queries, reports

dash.register_page(__name__, path="/forecast", name="Forecast", order=1, title="Forecast")


def layout(**_):
    reads = app_state().reads
    if not reads.serves():
        return html.Div([html.H2("Forecast"), ui.no_model_notice()])
    prod = reads.production()
    spec = prod.serving.spec
    limit = max_horizon(spec.freq)
    unit = period_unit(spec.freq)
    model_options = [{"label": f"Served: {prod.run['selected_model']}", "value": SERVED}]
    model_options += [{"label": m, "value": m} for m in prod.serving.models]
    drivers = [
        dbc.Col(
            [
                dbc.Label(f"Planned {name}", html_for={"type": "forecast-driver", "name": name}),
                dbc.Input(
                    id={"type": "forecast-driver", "name": name},
                    type="number",
                    placeholder="blank: plan in the file, else last season",
                    debounce=True,
                ),
            ],
            xs=12,
            md=4,
        )
        for name in spec.exog
    ]
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
            html.Div(
                [
                    html.H5("What if"),
                    html.P(
                        "The models use these drivers because validation said they help ("
                        + drivers_used(prod.run)
                        + "). With every field blank the forecast uses the planned values "
                        "the file gave past its last sale and, where it gave none, the same "
                        "models fitted without the drivers. Enter a value to see the forecast "
                        "with it; drivers left blank then take the file's plan or repeat "
                        "their last season.",
                        className="small text-muted",
                        id="forecast-drivers-note",
                    ),
                    dbc.Row(drivers),
                ],
                className="mb-3",
            )
            if drivers
            else html.P(
                drivers_left_out(prod.run),
                className="small text-muted",
                id="forecast-drivers-note",
            ),
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


def _frame(selector, horizon, model, driver_values, driver_ids) -> tuple[pd.DataFrame, str]:
    reads = app_state().reads
    selection = ui.parse_selector(selector)
    drivers = {
        ident["name"]: float(value)
        for ident, value in zip(driver_ids, driver_values, strict=True)
        if value not in (None, "")
    }
    request = ForecastRequest(
        int(horizon), model=None if model == SERVED else model, drivers=drivers or None
    )
    frame = serving.forecast(reads, request, selection).summed()
    return frame, selection.label


def _check_horizon(horizon) -> int:
    """A whole number of periods within the limit (2.5 is refused, not cut to 2)."""
    prod = app_state().reads.production()
    limit = max_horizon(prod.serving.spec.freq)
    if horizon is None or horizon != int(horizon) or not 1 <= int(horizon) <= limit:
        raise DataError(f"Choose a whole number of periods from 1 to {limit} as the horizon.")
    return int(horizon)


@callback(
    Output("forecast-chart", "figure"),
    Output("forecast-chart-title", "children"),
    Output("forecast-table", "data"),
    Output("forecast-table", "columns"),
    Output("forecast-message", "children"),
    Input("forecast-series", "value"),
    Input("forecast-horizon", "value"),
    Input("forecast-model", "value"),
    Input({"type": "forecast-driver", "name": ALL}, "value"),
    State({"type": "forecast-driver", "name": ALL}, "id"),
)
def update(selector, horizon, model, driver_values, driver_ids):
    try:
        horizon = _check_horizon(horizon)
        frame, label = _frame(selector, horizon, model, driver_values, driver_ids)
    except DataError as exc:
        return (dash.no_update,) * 4 + (ui.error_notice(str(exc)),)
    reads = app_state().reads
    selection = ui.parse_selector(selector)
    history = queries.history(reads, selection)
    quantity, _freq = reports.quantity(reads)
    fig = figures.history_with_forecast(history, frame, quantity, tail=3 * horizon)
    table = _table(frame)
    table["date"] = table["date"].dt.date.astype(str)
    if "bands extrapolated" in table:
        table["bands extrapolated"] = table["bands extrapolated"].map({True: "yes", False: ""})
    columns = [{"name": c, "id": c} for c in table.columns]
    served = queries.how_served(reads, selection, None if model == SERVED else model)
    note = dbc.Alert(served, color="light", id="forecast-served") if served else None
    return fig, f"Forecast of {quantity}: {label}", table.to_dict("records"), columns, note


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    """The forecast with readable column names; ``date`` stays a date (Excel keeps it so)."""
    out = frame.rename(
        columns={
            "ds": "date",
            "yhat": "forecast",
            "lo80": "lower 80%",
            "hi80": "upper 80%",
            "lo95": "lower 95%",
            "hi95": "upper 95%",
            "extrapolated": "bands extrapolated",
        }
    )
    out["date"] = out["date"].dt.normalize()
    return out.round(2)


@callback(
    Output("forecast-download", "data"),
    Output("forecast-message", "children", allow_duplicate=True),
    Input("forecast-download-csv", "n_clicks"),
    Input("forecast-download-xlsx", "n_clicks"),
    State("forecast-series", "value"),
    State("forecast-horizon", "value"),
    State("forecast-model", "value"),
    State({"type": "forecast-driver", "name": ALL}, "value"),
    State({"type": "forecast-driver", "name": ALL}, "id"),
    prevent_initial_call=True,
)
def download(_csv, _xlsx, selector, horizon, model, driver_values, driver_ids):
    """The table as a file; what keeps the chart from drawing is said the same way here."""
    try:
        frame, label = _frame(selector, _check_horizon(horizon), model, driver_values, driver_ids)
    except DataError as exc:
        return dash.no_update, ui.error_notice(str(exc))
    table = _table(frame)
    table.insert(0, "series", label)
    table = protect_formulas(table)
    if dash.ctx.triggered_id == "forecast-download-xlsx":
        return dcc.send_bytes(excel_bytes(table), "forecast.xlsx"), None
    table["date"] = table["date"].dt.date.astype(str)
    return dcc.send_data_frame(table.to_csv, "forecast.csv", index=False), None
