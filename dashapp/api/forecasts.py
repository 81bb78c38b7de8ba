"""``/api/forecast`` and ``/api/historical``: a scope's forecast with its bands and plan,
and its sales history."""

from __future__ import annotations

from dataclasses import replace

from flask.views import MethodView

from dashapp.api.common import json_errors, resource, scope_of
from dashapp.api.schemas import forecasts as shapes
from dashapp.api.schemas.common import ErrorSchema
from dashapp.state import app_state
from forecasting.data.frequency import check_horizon
from forecasting.serving.plans import PlanUse
from forecasting.serving.requests import BadHorizon, ForecastRequest
from forecasting.serving.scopes import Scope
from pipeline import serving
from pipeline.serving import queries

blp = resource("forecasts", "Forecasts with bands, and the sales history behind them")
FORECAST_RESPONSE = shapes.ForecastResponse()
HISTORY_RESPONSE = shapes.HistoryResponse()


@blp.route("/forecast")
class Forecast(MethodView):
    @blp.arguments(shapes.ForecastRequest())
    @blp.response(200, shapes.ForecastResponse)
    @blp.alt_response(415, schema=ErrorSchema, description="a body that is not JSON")
    @json_errors()
    def post(self, body):
        """Forecast with a prediction interval, for a series, a group or the total."""
        state = app_state()
        if body["drivers"]:  # a what-if: computed each time
            return _forecast(state.reads, body)
        asked = body["series"]
        key = (
            "forecast",
            body["horizon"],
            tuple(asked) if isinstance(asked, list) else asked,
            *(body[k] for k in ("group", "model", "level", "per_series")),
        )
        reads = state.reads
        return state.responses.respond(
            reads.generation(), key, lambda: FORECAST_RESPONSE.dump(_forecast(reads, body))
        )


def _forecast(reads: serving.ServingCache, body: dict) -> dict:
    prod = reads.serving_run()
    check_horizon(body["horizon"], prod.serving.spec.freq, error=BadHorizon)
    request = ForecastRequest(body["horizon"], model=body["model"], drivers=body["drivers"])
    asked = body["series"]
    batch = isinstance(asked, list) or body["per_series"]
    scope = Scope(series=None, group=body["group"]) if isinstance(asked, list) else scope_of(body)
    if isinstance(asked, list):
        request = replace(request, series=tuple(dict.fromkeys(asked)))
        scope = None
    result = serving.forecast(reads, request, scope)
    served = None if batch else queries.how_served(reads, scope_of(body), body["model"])
    level = body["level"]
    drivers = list(prod.serving.spec.exog)
    out = {
        "validated_horizon": prod.serving.horizon,
        "horizon": body["horizon"],
        "model": body["model"] or prod.run["selected_model"],
        "level": level,
        "run_id": prod.run["id"],
    }
    if batch:
        rows = result.rows
        out["forecasts"] = [
            {
                "series": str(uid),
                "predictions": _points(part, level, drivers),
                "plan": _plan_report(result, [uid]),
            }
            for uid, part in rows.groupby("unique_id", sort=False)
        ]
        if isinstance(asked, list):  # in the order asked
            order = {uid: i for i, uid in enumerate(dict.fromkeys(asked))}
            out["forecasts"].sort(key=lambda f: order[f["series"]])
        out["series"] = ", ".join(map(str, asked)) if isinstance(asked, list) else scope.label
        return out
    frame = result.summed()
    one = result.rows["unique_id"].nunique() == 1
    out["predictions"] = _points(result.rows if one else frame, level, drivers if one else [])
    out["series"] = scope_of(body).label
    out["served"] = served
    out["plan"] = _plan_report(result, None)
    return out


def _points(frame, level: int, drivers: list[str]) -> list[dict]:
    """The forecast periods of one series or a sum; a series' also say its plan."""
    points = []
    for row in frame.to_dict("records"):
        point = {
            "date": row["ds"].date().isoformat(),
            "value": float(row["yhat"]),
            "lower": float(row[f"lo{level}"]),
            "upper": float(row[f"hi{level}"]),
            "extrapolated": bool(row["extrapolated"]),
        }
        if drivers and "planned" in row:
            point["planned"] = bool(row["planned"]) if row["planned"] == row["planned"] else False
            point["drivers"] = {
                name: (None if row.get(name) != row.get(name) else float(row[name]))
                for name in drivers
            }
        points.append(point)
    return points


def _plan_report(result: serving.ServedForecast, series: list | None) -> dict | None:
    use = result.answer.plan
    if use is None:
        return None

    def mine(table):
        return (
            table if table is None or series is None else table.loc[table["unique_id"].isin(series)]
        )

    part = PlanUse(mine(use.rows), mine(use.holes), mine(use.outside))
    steps = part.rows.groupby("unique_id", sort=False)["planned"].sum()
    return {
        "planned_periods": int(steps.min()) if len(steps) else 0,
        "holes": part.describe_holes(limit=20),
        "outside": part.describe_outside(limit=20),
    }


@blp.route("/historical")
class Historical(MethodView):
    @blp.arguments(shapes.HistoryArgs(), location="query")
    @blp.response(200, shapes.HistoryResponse)
    @json_errors()
    def get(self, args):
        """Sales history (summed over the selection), with outlier counts per period."""
        state = app_state()
        key = ("history", *(args.get(k) for k in ("series", "group", "start", "end")))
        reads = state.reads
        return state.responses.respond(
            reads.generation(), key, lambda: HISTORY_RESPONSE.dump(_history(reads, args))
        )


def _history(reads: serving.ServingCache, args: dict) -> dict:
    frame = queries.history(reads, scope_of(args))
    if args.get("start"):
        frame = frame.loc[frame["ds"].dt.date >= args["start"]]
    if args.get("end"):
        frame = frame.loc[frame["ds"].dt.date <= args["end"]]
    return {
        "series": scope_of(args).label,
        "data": [
            {"date": ds.date().isoformat(), "value": float(y), "outliers": int(o), "filled": int(f)}
            for ds, y, o, f in zip(
                frame["ds"], frame["y"], frame["outliers"], frame["filled"], strict=True
            )
        ],
    }
