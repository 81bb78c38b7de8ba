"""The forecast page's callbacks (its layout: ``dashapp.pages.forecast``)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashapp import components as ui
from dashapp import figures
from dashapp.callbacks.registry import callback
from dashapp.state import app_state
from forecasting.data.frequency import check_horizon
from forecasting.data.loading import plan_rows_of, read_plan_csv
from forecasting.errors import DataError
from forecasting.serving.model import SERVED
from forecasting.serving.requests import ForecastRequest
from pipeline import serving
from pipeline.exports import excel_bytes, protect_formulas
from pipeline.serving import queries, reports


def _plan_rows(selector, horizon) -> list[dict]:
    """The plan on file for the scope's next ``horizon`` periods, one row per period."""
    reads = app_state().reads
    drivers = list(reads.serving_run().serving.spec.exog)
    if not drivers:
        return []
    rows = serving.forecast(reads, ForecastRequest(int(horizon)), ui.parse_selector(selector)).rows
    step = rows.groupby("unique_id", sort=False).cumcount()
    table = rows.groupby(step)[["ds", *drivers]].agg(
        {"ds": "first", **{name: "mean" for name in drivers}}
    )
    table["date"] = table["ds"].dt.date.astype(str)
    table = table[["date", *drivers]].round(4).astype(object)
    return table.where(table.notna(), None).to_dict("records")


def _frame(selector, horizon, model, plan, on_file) -> tuple[pd.DataFrame, str]:
    result, label, note = _forecast(selector, horizon, model, plan, on_file)
    return result.summed(), label, note


def _forecast(selector, horizon, model, plan, on_file):
    """The served forecast of the chosen scope, its label and what its plan gave."""
    reads = app_state().reads
    scope = ui.parse_selector(selector)
    model = None if model == SERVED else model
    own = None
    if plan and plan != on_file:  # the planner's own plan
        if len(plan) != int(horizon) or len(on_file or []) != len(plan):
            raise DataError(
                f"The plan table has {len(plan)} periods and the horizon is {horizon}: "
                "go back to the plan on file, or upload one with a row per period."
            )
        own = _edited_plan(reads, scope, int(horizon), plan, on_file)
    request = ForecastRequest(int(horizon), model=model, plan=own)
    result = serving.forecast(reads, request, scope)
    serving_model = reads.serving_run().serving
    fitted = serving_model.fitted
    if model is not None and model in fitted and not fitted[model].uses_exog:
        note = f"{model} does not read the drivers: the plan does not change this forecast."
        return result, scope.label, note
    use = result.answer.plan
    if model is None and serving_model.spec.exog:  # said before a plan is typed, too
        ids = list(pd.unique(result.rows["unique_id"]))
        free = serving_model.driver_free(ids)
        said = _driver_free_note(free, len(ids))
        # the plan's reach and clamps of the series it moves, not of those it cannot
        note = _plan_note(use.without(free.index) if use is not None else None, int(horizon))
        if len(free) == len(ids) or note is None:  # the plan's reach would mislead
            note = said or note
        elif said:  # some series read the plan: its reach and clamped prices still hold
            note = f"{note} {said}"
        return result, scope.label, note
    return result, scope.label, _plan_note(use, int(horizon))


def _driver_free_note(free: pd.Series, shown: int) -> str | None:
    """Where what serves the series shown reads no driver, that the plan moves nothing
    (a stranger planned a promotion on a forecast no driver reaches, and it stood still
    while the page spoke of the plan's reach)."""
    if free.empty:
        return None
    names = ", ".join(pd.unique(free))
    if len(free) == shown:
        whom = "this series" if shown == 1 else f"these {shown} series"
        return (
            f"What serves {whom} ({names}) reads no driver: a plan does not change this "
            "forecast. Pick a model that reads them to see a plan's effect."
        )
    verb = "reads" if free.nunique() == 1 else "read"
    return (
        f"{len(free)} of the {shown} series are served by {names}, which {verb} no driver: "
        "a plan does not move their forecasts."
    )


def _plan_note(use, horizon: int) -> str | None:
    """What the plan gave the forecast shown: how far it reached, what was filled, which
    prices no history supports."""
    if use is None or not len(use.rows):
        return None
    text = plan_reach(use.periods(), horizon)
    details = use.describe_holes() + use.describe_outside()
    return text + (" " + "; ".join(details) + "." if details else "")


def plan_reach(reach: pd.Series, horizon: int) -> str:
    """How many of the ``horizon`` periods shown each series' plan covers (``reach``, per
    series), as a sentence: series that share a reach are counted together."""
    counts = reach.astype(int).value_counts().sort_index(ascending=False)
    shown = f"of the {horizon} periods shown"
    if len(counts) == 1:
        k = int(counts.index[0])
        reached = f"{k} {shown}" if k else f"none {shown}"
        if len(reach) > 1:
            reached += f" for {'each' if k else 'any'} of the {len(reach)} series"
    else:
        first, *rest = counts.items()
        parts = [f"{first[0]} {shown} for {first[1]} series"]
        parts += [f"{k} for {n} series" for k, n in rest]
        reached = ", ".join(parts)
    text = f"The plan reaches {reached}"
    if counts.index.max() == 0:
        return text + ": the forecast is made without the drivers."
    if counts.index.min() < horizon:
        return text + "; past it the forecast is made without the drivers."
    return text + "."


def _edited_plan(reads, scope, horizon: int, plan: list[dict], on_file: list[dict]):
    """Each series' plan on file with the planner's changes: a price changed from a to b
    scales every series' planned price in that period by b/a (a group's table shows
    their mean), a promotion is set as typed, and a cleared cell clears the period's
    value for every series (no plan there: the fill rules or the driver-free forecast)."""
    spec = reads.serving_run().serving.spec
    rows = serving.forecast(reads, ForecastRequest(horizon), scope).rows
    own = rows[["unique_id", "ds", *spec.exog]].copy()
    step = own.groupby("unique_id", sort=False).cumcount().to_numpy()
    for k, (mine, theirs) in enumerate(zip(plan, on_file, strict=True)):
        for name in spec.exog:
            new, old = plan_number(mine.get(name)), plan_number(theirs.get(name))
            if new == old:
                continue
            if spec.role(name) == "price" and new is not None and new <= 0:
                raise DataError(f"The plan table gives {name} {new:g}; give a price above zero.")
            at = step == k
            if new is None:
                own.loc[at, name] = float("nan")
            elif spec.role(name) == "price" and old:
                own.loc[at, name] = own.loc[at, name].fillna(old) * (new / old)
            else:
                own.loc[at, name] = new
    return own


def plan_number(value) -> float | None:
    """A plan cell as the what-if wants it: a number (a decimal comma read as a point,
    as a German export writes 3,20), or None for a blank (no plan there)."""
    if isinstance(value, str):
        value = value.strip()
        if "," in value and "." not in value and value.count(",") == 1:
            value = value.replace(",", ".")
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"The plan table holds {value!r}; give numbers (3.20 or 3,20) or leave the "
            "cell blank for no plan there."
        ) from None


@callback(
    Output("forecast-plan", "data"),
    Output("forecast-plan-on-file", "data"),
    Output("forecast-message", "children", allow_duplicate=True),
    Input("forecast-series", "value"),
    Input("forecast-horizon", "value"),
    Input("forecast-plan-reset", "n_clicks"),
    Input("forecast-plan-upload", "contents"),
    State("forecast-plan", "data"),
    prevent_initial_call="initial_duplicate",
)
def fill_plan(selector, horizon, _reset, upload, current):
    """The plan on file for what is shown; an uploaded plan in its place."""
    try:
        horizon = _check_horizon(horizon)
        on_file = _plan_rows(selector, horizon)
    except DataError as exc:
        return dash.no_update, dash.no_update, ui.error_notice(str(exc))
    if dash.ctx.triggered_id == "forecast-plan-upload" and upload:
        try:
            reads, scope = app_state().reads, ui.parse_selector(selector)
            shown = queries.members(scope, reads.keys())
            plan = _uploaded_plan(upload, on_file, _series_columns(reads), shown, scope.label)
            return plan, on_file, None
        except DataError as exc:
            return dash.no_update, dash.no_update, ui.error_notice(str(exc))
    return on_file, on_file, None


def _uploaded_plan(
    contents: str,
    on_file: list[dict],
    ids: list[str] | None = None,
    shown: list[str] | None = None,
    label: str = "the series shown",
) -> list[dict]:
    """A plan CSV (a date column and a column per driver, read as any plan file is:
    ``read_plan_csv``) on the table's periods; a period or a driver the file leaves out
    stays blank. A file with the data set's series columns ``ids`` gives the rows of the
    series ``shown`` (a group's table: their mean); without them it is the plan of what
    is shown."""
    import base64

    names = [k for k in on_file[0] if k != "date"] if on_file else []
    try:
        raw = base64.b64decode(contents.split(",", 1)[1])
    except (ValueError, IndexError):
        raise DataError("The plan file could not be read as a file.") from None
    frame = read_plan_csv(raw, names, ids=list(ids or []))
    if shown is not None:
        advice = "upload the rows of the series shown, or a file of dates and drivers only"
        frame = plan_rows_of(frame, shown, label, advice)
    known = [name for name in names if name in frame.columns]
    by_date = frame.groupby(frame["ds"].dt.date.astype(str), sort=False)[known].mean()
    rows = []
    for row in on_file:
        values = by_date.loc[row["date"]] if row["date"] in by_date.index else None
        rows.append(
            {"date": row["date"]}
            | {
                name: (None if values is None or name not in known or pd.isna(values[name])
                       else plan_number(values[name]))
                for name in names
            }
        )  # fmt: skip
    return rows


def _series_columns(reads) -> list[str]:
    """The columns that name the shown data set's series (``store``, ``item``)."""
    info = reports.dataset(reads) or {}
    return list(info.get("mapping", {}).get("mapping", {}).get("ids", []))


def _check_horizon(horizon) -> int:
    """A whole number of periods within the limit (2.5 is refused, not cut to 2)."""
    return check_horizon(horizon, app_state().reads.serving_run().serving.spec.freq)


@callback(
    Output("forecast-chart", "figure"),
    Output("forecast-chart-title", "children"),
    Output("forecast-table", "data"),
    Output("forecast-table", "columns"),
    Output("forecast-message", "children"),
    Input("forecast-series", "value"),
    Input("forecast-horizon", "value"),
    Input("forecast-model", "value"),
    Input("forecast-plan", "data"),
    State("forecast-plan-on-file", "data"),
)
def update(selector, horizon, model, plan, on_file):
    try:
        horizon = _check_horizon(horizon)
        frame, label, plan_note = _frame(selector, horizon, model, plan, on_file)
    except DataError as exc:  # no chart or table of the request before: it says nothing now
        nothing = figures.empty("No forecast for this request: see the message above.")
        return nothing, "Forecast: none", [], [], ui.error_notice(str(exc))
    reads = app_state().reads
    scope = ui.parse_selector(selector)
    history = queries.history(reads, scope)
    quantity, _freq = reports.quantity(reads)
    fig = figures.history_with_forecast(history, frame, quantity, tail=3 * horizon)
    table = _table(frame)
    table["date"] = table["date"].dt.date.astype(str)
    if "bands extrapolated" in table:
        table["bands extrapolated"] = table["bands extrapolated"].map({True: "yes", False: ""})
    columns = [{"name": c, "id": c} for c in table.columns]
    served = queries.how_served(reads, scope, None if model == SERVED else model)
    notes = [
        html.Div(served, id="forecast-served") if served else None,
        html.Div(plan_note, id="forecast-plan-note") if plan_note else None,
    ]
    notes = [n for n in notes if n is not None]
    note = dbc.Alert(notes, color="light") if notes else None
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
            "planned": "planned share",
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
    State("forecast-plan", "data"),
    State("forecast-plan-on-file", "data"),
    prevent_initial_call=True,
)
def download(_csv, _xlsx, selector, horizon, model, plan, on_file):
    """The table as a file: the scope's sum, and for a group or all series every series'
    own rows under it; what keeps the chart from drawing is said the same way here."""
    try:
        result, label, _note = _forecast(selector, _check_horizon(horizon), model, plan, on_file)
    except DataError as exc:
        return dash.no_update, ui.error_notice(str(exc))
    table = _table(result.summed()).assign(series=label)
    rows = result.rows
    if rows["unique_id"].nunique() > 1:
        each = rows.drop(columns=["model"], errors="ignore").rename(columns={"unique_id": "series"})
        table = pd.concat([table, _table(each)], ignore_index=True)
    table = protect_formulas(table[["series", *table.columns.drop("series")]])
    if dash.ctx.triggered_id == "forecast-download-xlsx":
        return dcc.send_bytes(excel_bytes(table), "forecast.xlsx"), None
    table["date"] = table["date"].dt.date.astype(str)
    return dcc.send_data_frame(table.to_csv, "forecast.csv", index=False), None
