"""Every JSON route through Flask's test client, on a real trained data directory."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashapp import create_app
from tests.support.files import launch_and_never_sold
from tests.support.frames import SAMPLES
from tests.support.servers import cli, expected_models

SERIES = "store=north/item=mug"


def _forecast(client, **body):
    return client.post("/api/forecast", json=body)


def test_forecast_keeps_the_original_contract(client):
    response = _forecast(client, horizon=30)
    assert response.status_code == 200
    body = response.get_json()
    points = body["predictions"]
    assert len(points) == 30
    assert {"date", "value", "lower", "upper"} <= set(points[0])
    assert all(p["lower"] <= p["value"] <= p["upper"] for p in points)
    assert points[0]["date"] == "2025-01-01"  # the day after the history ends
    assert body["level"] == 95 and body["series"] == "all series (total)"


def test_bands_past_the_validated_horizon_are_marked_and_keep_widening(client):
    body = _forecast(client, horizon=30, series=SERIES).get_json()
    assert body["validated_horizon"] == 14  # the trained fixture's horizon
    points = body["predictions"]
    assert [p["extrapolated"] for p in points] == [False] * 14 + [True] * 16
    widths = [p["upper"] - p["value"] for p in points]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(widths))
    assert widths[-1] > widths[13]


def test_an_unknown_series_names_the_ids_it_may_have_meant(client):
    """A planner types the item number; the id carries its column name too."""
    item = SERIES.split("=")[-1].split("|")[0]
    body = _forecast(client, horizon=5, series=item).get_json()
    assert "did you mean" in json.dumps(body) and SERIES in json.dumps(body)


def test_a_group_is_found_whatever_the_case_of_its_column_and_value(client):
    exact = _forecast(client, horizon=5, group="store=north").get_json()
    typed = _forecast(client, horizon=5, group="Store=NORTH").get_json()
    assert typed["predictions"] == exact["predictions"]
    wrong = _forecast(client, horizon=5, group="shop=north").get_json()
    assert "use column=value with a column of:" in json.dumps(wrong) and "store" in json.dumps(
        wrong
    )


@pytest.fixture(scope="module")
def launch_client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("launch") / "data"
    source = data_dir.parent / "sales.csv"
    source.write_bytes(launch_and_never_sold())
    one_model = ["--models", "linear_trend", "--trials", "0", "--horizon", "14", "--jobs", "1"]
    ran = cli(data_dir, "run", "--csv", str(source), *one_model, "--quiet")
    assert ran.returncode == 0, ran.stderr
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()


def test_the_forecast_says_a_launch_keeps_its_level_whatever_model_is_asked(launch_client):
    launch = "item=launch/store=north"
    body = _forecast(launch_client, horizon=7, series=launch, model="linear_trend").get_json()
    assert {p["value"] for p in body["predictions"]} == {5.0}  # its 3 days' mean
    assert "new: 3 days of history, level forecast; served by level" in body["served"]
    assert "whatever model is chosen" in body["served"]
    kettle = _forecast(launch_client, horizon=7, series="item=kettle/store=north").get_json()
    assert "whatever model" not in kettle["served"] and "served by" in kettle["served"]
    asked = _forecast(launch_client, horizon=7, series="item=kettle/store=north", model="naive")
    served = kettle["served"].rstrip(".")  # what serves it stays named, beside what is shown
    assert asked.get_json()["served"] == served + "; shown here: naive."
    store = _forecast(launch_client, horizon=7, group="store=north", model="linear_trend")
    store = store.get_json()
    assert store["served"].startswith("2 of 5 series here are new or have never sold")


def test_series_says_how_each_series_is_forecast(client):
    body = client.get("/api/series").get_json()
    details = {d["unique_id"]: d for d in body["details"]}
    assert set(details) == set(body["series"])
    for row in details.values():
        assert row["ladder_step"] in {"zero", "new", "short", "long"}
        assert row["demand_class"] in {"smooth", "erratic", "intermittent", "lumpy", "none"}
        assert row["ladder_note"] and row["served_by"]
    assert details[SERIES]["ladder_step"] == "long" and details[SERIES]["periods"] > 300


def test_forecast_for_a_series_a_group_a_model_and_a_level(client):
    one = _forecast(client, horizon=7, series=SERIES).get_json()["predictions"]
    group = _forecast(client, horizon=7, group="store=north").get_json()["predictions"]
    whole = _forecast(client, horizon=7).get_json()
    total = whole["predictions"]
    assert one[0]["value"] < group[0]["value"] < total[0]["value"]
    served = {r["served_by"] for r in client.get("/api/series").get_json()["details"]}
    assert whole["served"].startswith("The 9 series here are served by ")  # never a bare null
    assert any(name in whole["served"] for name in served)
    served = {m["model"] for m in client.get("/api/metrics").get_json()["models"] if m["selected"]}
    other = next(m for m in ("linear_trend", "xgboost") if m not in served)
    chosen = _forecast(client, horizon=7, model=other).get_json()
    assert chosen["model"] == other
    assert chosen["predictions"][0]["value"] != total[0]["value"]
    narrow = _forecast(client, horizon=7, level=80).get_json()["predictions"]
    assert all(
        n["upper"] - n["lower"] < w["upper"] - w["lower"]
        for n, w in zip(narrow, total, strict=True)
    )
    # the total's band is calibrated on the total's errors, not the series' bands added up
    ids = client.get("/api/series").get_json()["series"]
    added = sum(
        p["upper"] - p["lower"]
        for uid in ids
        for p in _forecast(client, horizon=7, series=uid).get_json()["predictions"][-1:]
    )
    assert total[-1]["upper"] - total[-1]["lower"] < 0.9 * added
    assert all(p["lower"] <= p["value"] <= p["upper"] for p in total)


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"horizon": 0}, 422, "at least 1 period, got 0"),
        ({"horizon": 10000}, 422, "1 to 365"),
        ({"horizon": "text"}, 422, "Not a valid integer"),
        ({}, 422, "Missing data"),
        ({"horizon": 5, "series": "nope"}, 422, "Unknown series"),
        ({"horizon": 5, "group": "store=mars"}, 422, "No series has"),
        ({"horizon": 5, "model": "nope"}, 422, "Must be one of: selected"),
        ({"horizon": 5, "model": "prophet"}, 422, "Unknown model 'prophet'"),
        ({"horizon": 5, "level": 50}, 422, "Must be one of"),
        ({"horizon": 5, "drivers": {"shelf_temp": 1}}, 422, "not a driver"),
        ({"horizon": 5, "series": "total", "group": "store=north"}, 422, "not both"),
    ],
)
def test_bad_forecast_requests_get_a_json_error(client, body, status, says):
    response = _forecast(client, **body)
    assert response.status_code == status
    error = response.get_json()
    assert {"error", "detail"} <= set(error) <= {"error", "detail", "fields"}
    assert isinstance(error["detail"], str) and says in error["detail"]  # one shape, always
    assert ".." not in error["detail"]
    # every 422 names the field to change, webargs' and the product's own refusals alike
    assert error["fields"]["json"] and set(error["fields"]["json"]) <= set(body) | {"horizon"}


def test_a_body_that_is_not_an_object_says_what_it_must_be(client):
    """A list or a bare string is JSON but no request: the sentence names no internal key."""
    for body in ([{"horizon": 3}], "horizon=3"):
        response = client.post("/api/forecast", json=body)
        assert response.status_code == 422
        detail = response.get_json()["detail"]
        assert detail.startswith("Invalid body: it must be a JSON object"), detail
        assert "_schema" not in detail


def test_malformed_json_is_a_400(client):
    response = client.post(
        "/api/forecast", data="{horizon: 3", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    said = response.get_json()
    assert said["error"] == "Bad Request" and isinstance(said["detail"], str)
    assert "fields" not in said  # what is wrong is the body, not a field


def test_a_body_that_is_not_json_is_a_415_that_says_how_to_send_it(client):
    """curl -d without a Content-Type sends a form: it is refused, nothing is started."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}  # what curl -d sends
    for route in ("/api/forecast", "/api/runs"):
        response = client.post(route, data="horizon=7", headers=form)
        assert response.status_code == 415, route
        detail = response.get_json()["detail"]
        assert "Content-Type: application/json" in detail, detail
        assert "application/x-www-form-urlencoded" in detail, detail
    bare = client.post("/api/forecast", data='{"horizon": 3}')  # JSON text, no header
    assert bare.status_code == 415 and "no Content-Type" in bare.get_json()["detail"]
    assert client.get("/api/runs").get_json()["runs"][0]["id"] == 1  # no run was started
    assert client.post("/api/forecast", json={"horizon": 3}).status_code == 200


def test_history_series_metrics_models_importance_and_eda(client):
    history = client.get("/api/historical").get_json()
    assert len(history["data"]) == 731 and history["data"][0]["date"] == "2023-01-01"
    one = client.get(f"/api/historical?series={SERIES}&start=2024-12-01").get_json()
    assert len(one["data"]) == 31 and one["series"] == SERIES
    unknown = client.get("/api/historical?series=nope")
    assert unknown.status_code == 422 and list(unknown.get_json()["fields"]) == ["query"]
    european = client.get("/api/historical?start=01.11.2024")
    assert european.status_code == 422 and "YYYY-MM-DD" in json.dumps(european.get_json())
    reversed_dates = client.get("/api/historical?start=2024-12-31&end=2024-12-01")
    assert reversed_dates.status_code == 422, reversed_dates.get_json()
    assert "is after end 2024-12-01: swap them" in json.dumps(reversed_dates.get_json())
    both = client.get(f"/api/historical?series={SERIES}&group=store=north")
    assert both.status_code == 422 and "not both" in both.get_json()["detail"]
    series = client.get("/api/series").get_json()
    assert len(series["series"]) == 9 and "store=north" in series["groups"]
    metrics = client.get("/api/metrics").get_json()
    assert metrics["run_id"] == 1
    assert metrics["served"]["mase"] < metrics["baseline"]["mase"]
    trained = expected_models({"linear_trend", "xgboost"}, metrics["served"])
    assert {m["model"] for m in metrics["models"]} == trained
    models = client.get("/api/models").get_json()
    assert set(models["models"]) == trained and len(models["models"]) == len(trained)
    importance = client.get("/api/feature-importance").get_json()
    assert set(importance) == {"xgboost"} and len(importance["xgboost"]) > 5
    eda = client.get("/api/eda").get_json()
    assert eda["overview"]["series"] == 9 and eda["dataset_id"] == 1


def test_a_group_s_history_is_its_members_sum_and_needs_no_stored_sums(client):
    """Groups and the total are drawn from sums written with the version; a version
    stored before them is summed by the database, to the same answer."""
    import sqlite3

    frame = pd.read_csv(SAMPLES / "store_item_daily.csv", parse_dates=["date"])
    frame = frame.dropna(subset=["units_sold"])  # the rows past the history are a plan
    north = frame.loc[frame["store"] == "north"].groupby("date")["units_sold"].sum()
    asked = {
        q: client.get(f"/api/historical{q}").get_json()["data"] for q in ("", "?group=Store=NORTH")
    }
    got = pd.Series({pd.Timestamp(r["date"]): r["value"] for r in asked["?group=Store=NORTH"]})
    assert np.allclose(got.sort_index().to_numpy(), north.to_numpy())
    with sqlite3.connect(client.application.config["APP_DIR"] / "app.sqlite") as db:
        assert db.execute("DELETE FROM period_sums").rowcount > 0
    for query, before in asked.items():
        assert client.get(f"/api/historical{query}").get_json()["data"] == before


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/api/forecast", {"horizon": 2.5}),
        ("/api/forecast", {"horizon": 7, "level": 80.5}),
        ("/api/runs", {"horizon": 2.5}),
        ("/api/runs", {"trials": 1.5}),
    ],
)
def test_a_horizon_is_a_whole_number_everywhere(client, route, body):
    response = client.post(route, json=body)
    assert response.status_code == 422, response.get_json()
    assert "Not a valid integer" in str(response.get_json()["detail"])
    assert client.get("/api/runs").get_json()["runs"][0]["id"] == 1  # nothing started


@pytest.mark.parametrize(
    "selection", [{"series": "nope"}, {"group": "store=mars"}, {"group": "planet=mars"}]
)
def test_an_unknown_selection_gets_the_same_status_on_every_route(client, selection):
    forecast = client.post("/api/forecast", json={"horizon": 5, **selection})
    history = client.get("/api/historical", query_string=selection)
    assert forecast.status_code == history.status_code == 422
    assert forecast.get_json()["detail"] == history.get_json()["detail"]
    # a model the document names but this data set's run did not train
    model = client.post("/api/forecast", json={"horizon": 5, "model": "prophet"})
    assert model.status_code == 422 and "see GET /api/models" in model.get_json()["detail"]


def test_openapi_document_and_health(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    validate(spec)  # an OpenAPI 3 document by the specification's own validator
    upload = spec["paths"]["/api/upload"]["post"]
    assert "parameters" not in upload  # no OpenAPI 2 formData: one multipart body
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    assert spec["components"]["schemas"][body.rsplit("/", 1)[1]]["required"] == ["file"]
    for path in ("/api/forecast", "/api/historical", "/api/runs/{run_id}/logs", "/api/upload"):
        assert path in spec["paths"], path
    # the admin token is a bearer scheme, declared by exactly the routes that change things
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    secured = {
        (path, method)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("security") == [{"bearerAuth": []}]
    }
    assert secured == {
        ("/api/upload", "post"),
        ("/api/runs", "post"),
        ("/api/runs/{run_id}/cancel", "post"),
        ("/api/runs/{run_id}/promote", "post"),
    }
    assert "latest upload" in str(spec["paths"]["/api/runs"]["post"])
    # every route of one run says what an unknown id gets, and gets it
    for path, item in spec["paths"].items():
        if "{run_id}" in path:
            for method, operation in item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    assert "404" in operation["responses"], (path, method)
    assert client.get("/api/runs/999").status_code == 404
    health = client.get("/health")
    assert health.status_code == 200
    expected = {"status": "ok", "database": True, "queue": None, "production_run_id": 1}
    assert health.get_json() == expected


@pytest.fixture(scope="module")
def driver_client(tmp_path_factory):
    """A model trained with the e-commerce sample's planned marketing spend as a driver."""
    from tests.support.servers import cli

    data_dir = tmp_path_factory.mktemp("drivers") / "data"
    result = cli(
        data_dir,
        "run",
        "--csv",
        str(SAMPLES / "ecommerce_sales_data.csv"),
        "--exog",
        "marketing_spend",
        "--models",
        "linear_trend",
        "--horizon",
        "14",
        "--jobs",
        "1",
        "--quiet",
        "--no-tracking",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return create_app({"DATA_DIR": str(data_dir)}).server.test_client()


def test_what_if_drivers_change_the_forecast(driver_client):
    def total(**drivers):
        body = {"horizon": 7, **({"drivers": drivers} if drivers else {})}
        response = driver_client.post("/api/forecast", json=body)
        assert response.status_code == 200, response.get_json()
        return sum(p["value"] for p in response.get_json()["predictions"])

    assumed = total()
    more = total(marketing_spend=8000)
    less = total(marketing_spend=500)
    assert more > less * 1.05  # spend lifts sales in this sample
    assert min(less, more) < assumed * 1.5
    per_day = total(marketing_spend=[8000] * 7)
    assert per_day == pytest.approx(more)
    wrong = driver_client.post(
        "/api/forecast", json={"horizon": 7, "drivers": {"marketing_spend": [1, 2]}}
    )
    assert wrong.status_code == 422 and "needs 1 or 7 values" in wrong.get_json()["detail"]
    assert list(wrong.get_json()["fields"]["json"]) == ["drivers"]
    for value, says in (("cheap", "needs numbers"), (1e300, "finite number"), ([1, "x"], "'x'")):
        bad = driver_client.post(
            "/api/forecast", json={"horizon": 7, "drivers": {"marketing_spend": value}}
        )
        assert bad.status_code == 422 and says in bad.get_json()["detail"], bad.get_json()
        assert list(bad.get_json()["fields"]["json"]) == ["drivers"]


def test_other_methods_and_paths_under_api_get_json_not_the_dashboard(client):
    wrong_method = client.get("/api/forecast")
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert wrong_method.headers["Allow"] == "OPTIONS, POST"
    options = client.options("/api/historical")
    assert options.headers["Allow"] == "GET, HEAD, OPTIONS"
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and "openapi.json" in missing.get_json()["detail"]
    assert client.get("/api/runs/9223372036854775808").status_code == 404


def test_responses_are_strict_json_with_null_for_scores_that_could_not_be_computed(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    text = app.server.json.dumps({"adi": float("nan"), "scores": [1.5, float("inf")]})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON")) == {
        "adi": None,
        "scores": [1.5, None],
    }


def test_the_forecast_page_says_a_model_without_drivers_ignores_the_plan(driver_client):
    from dashapp.callbacks.forecast import _forecast
    from dashapp.components import TOTAL
    from forecasting.serving.model import SERVED

    with driver_client.application.app_context():
        _, _, note = _forecast(TOTAL, 7, "seasonal_naive", None, None)
        _, _, served = _forecast(TOTAL, 7, SERVED, None, None)
    assert note == (
        "seasonal_naive does not read the drivers: the plan does not change this forecast."
    )
    assert served is None or "The plan reaches" in served


def test_the_forecast_page_says_when_what_serves_reads_no_driver(driver_client):
    """A stranger planned a promotion on a forecast served by models that read no driver:
    the forecast stood still while the page spoke of the plan's reach."""
    from dataclasses import replace

    from dashapp.callbacks.forecast import _driver_free_note
    from dashapp.state import app_state

    with driver_client.application.app_context():
        serving = app_state().reads.serving_run().serving
    ids = serving.series
    assert serving.choice.iloc[0] == "linear_trend"  # it reads the spend
    assert serving.driver_free(ids).empty
    naive = pd.Series("seasonal_naive", index=serving.choice.index)
    deaf = replace(serving, choice=naive, unplanned=naive)
    free = deaf.driver_free(ids)
    assert free.to_dict() == dict.fromkeys(ids, "seasonal_naive")
    # a plan that switches a series to another driver-free choice does move it
    switched = replace(deaf, unplanned=pd.Series("naive", index=serving.choice.index))
    assert switched.driver_free(ids).empty
    assert _driver_free_note(free, 1) == (
        "What serves this series (seasonal_naive) reads no driver: a plan does not change "
        "this forecast. Pick a model that reads them to see a plan's effect."
    )
    two = pd.Series({"a": "croston", "b": "ensemble(ets+theta)"})
    assert _driver_free_note(two, 5) == (
        "2 of the 5 series are served by croston, ensemble(ets+theta), which read no "
        "driver: a plan does not move their forecasts."
    )


@pytest.fixture(scope="module")
def closed_client(tmp_path_factory):
    """Four shops closed on Christmas Day three years running, one spike, and a shop that
    sold nothing in its last 20 days."""
    data_dir = tmp_path_factory.mktemp("closed") / "data"
    days = pd.date_range("2021-01-01", "2023-12-31", freq="D")
    rng = np.random.default_rng(5)
    frames = []
    for shop in range(4):
        units = rng.poisson(40 * (1 + 0.3 * (days.dayofweek >= 5))).astype(float)
        units[(days.month == 12) & (days.day == 25)] = 0.0
        if shop == 0:
            units[days == "2023-06-15"] = 900.0
        if shop == 3:  # delisted, its zeros written: the run says so
            units[-20:] = 0.0
        frames.append(pd.DataFrame({"date": days, "shop": f"s{shop}", "units": units}))
    source = data_dir.parent / "sales.csv"
    pd.concat(frames).to_csv(source, index=False)
    quick = ["--models", "seasonal_naive", "--trials", "0", "--horizon", "14", "--jobs", "1"]
    ran = cli(data_dir, "run", "--csv", str(source), "--country", "US", *quick, "--quiet")
    assert ran.returncode == 0, ran.stderr
    log = (data_dir / "logs" / "1.log").read_text()
    assert "closures: Christmas Day (4 series)" in log
    assert "1 series sold nothing in their last periods, which their own history" in log
    assert "(e.g. shop=s3: 20 days): delisted or out of stock?" in log
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()


def test_a_closure_is_not_marked_an_outlier_in_the_history(closed_client):
    """A stranger's Christmas, a closure the run knew, was marked an outlier on every
    history chart; a real spike still is."""
    for query in ("?series=shop=s0", ""):  # a series, and the total
        rows = closed_client.get(f"/api/historical{query}").get_json()["data"]
        flagged = {r["date"][:10] for r in rows if r["outliers"]}
        assert not any(day.endswith("-12-25") for day in flagged), (query, flagged)
    one = closed_client.get("/api/historical?series=shop=s0").get_json()["data"]
    assert "2023-06-15" in {r["date"][:10] for r in one if r["outliers"]}


def test_the_total_s_overview_says_a_series_in_it_looks_delisted(closed_client):
    """A stranger's region was forecast above its 95% band by a delisted SKU whose
    warning was on the SKU's own view alone."""
    from dashapp.callbacks.overview import update

    with closed_client.application.app_context():
        said = str(update("__total__")[4])
        alone = str(update("series:shop=s3")[4])
    assert "1 series here sold nothing in their last periods" in said
    assert "e.g. shop=s3" in said and "delisted or out of stock?" in said
    assert "sold nothing in their last periods" not in alone  # its own note says it


def test_a_series_overview_gives_its_own_held_out_scores_beside_the_runs(closed_client):
    """A stranger read one series' Overview and took the run's scores over every series
    for that series'. A series' and a group's card give their own, from the run's held-out
    forecasts, with the run's beside them; the total's gives the run's alone."""
    from dashapp.callbacks.overview import update
    from pipeline.formatting import label, percent
    from storage.artifacts import ArtifactStore

    data_dir = closed_client.application.config["DATA_DIR"]
    store = ArtifactStore(Path(data_dir) / "models")
    held, per_series = store.load(1, "backtest"), store.load(1, "per_series")
    with closed_client.application.app_context():
        cards = {scope: str(update(scope)[0][-1]) for scope in ("series:shop=s1", "__total__")}
    rows = held.loc[held["unique_id"] == "shop=s1"]
    wape = (rows["selected"] - rows["y"]).abs().sum() / rows["y"].abs().sum() * 100
    mase = per_series.loc[
        (per_series["unique_id"] == "shop=s1") & (per_series["model"] == "selected"), "mase"
    ].iloc[0]
    one = cards["series:shop=s1"]
    assert f"held-out on this series: WAPE {percent(wape)}" in one
    assert f"MASE {label(mase)}" in one and "(all series: WAPE" in one
    assert "held-out WAPE" in cards["__total__"] and "this series" not in cards["__total__"]
    served = closed_client.get("/api/metrics").get_json()["served"]
    held = [served[f"coverage{k}"] for k in (80, 95)]
    assert f"bands held {held[0]:.1%} and {held[1]:.1%} of the held-out values" in one
    assert ".." not in one and ".. " not in cards["__total__"]  # each sentence ended once


def test_the_metrics_route_gives_one_series_or_group_its_own_scores(closed_client):
    """A stranger asked /api/metrics?series=... and got the run's scores, the argument
    silently ignored: a program now gets the scope's own, and a clear 422 for a typo."""
    from storage.artifacts import ArtifactStore

    data_dir = closed_client.application.config["DATA_DIR"]
    held = ArtifactStore(Path(data_dir) / "models").load(1, "backtest")
    rows = held.loc[held["unique_id"] == "shop=s1"]
    wape = (rows["selected"] - rows["y"]).abs().sum() / rows["y"].abs().sum() * 100
    one = closed_client.get("/api/metrics?series=shop=s1").get_json()
    assert one["scope"]["label"] == "shop=s1" and one["scope"]["series"] == 1
    assert one["scope"]["served"]["wape"] == pytest.approx(wape)
    assert one["served"]["wape"] != pytest.approx(wape)  # the run's, beside it
    assert closed_client.get("/api/metrics").get_json()["scope"] is None
    assert closed_client.get("/api/metrics?series=total").get_json()["scope"] is None
    typo = closed_client.get("/api/metrics?series=shop=s9")
    assert typo.status_code == 422, typo.get_json()
    assert "Unknown series shop=s9" in json.dumps(typo.get_json())
