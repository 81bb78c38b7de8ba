"""A planner's priced and promoted file through a run and the JSON API: plans per series,
both held-out scores, the drivers' effects and many series in one call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashapp import create_app
from tests.support.files import PLANNED_WEEKS, planned_weekly_file
from tests.support.servers import cli

H = PLANNED_WEEKS


def _run_naming_drivers(data_dir, path, models: str, *extra: str) -> None:
    """A run of ``path`` with the price and the display named as drivers."""
    result = cli(
        data_dir, "run", "--csv", str(path), "--horizon", str(H), "--models", models, *extra,
        "--jobs", "1", "--quiet", "--no-tracking", "--exog", "price", "--exog", "display",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def planned_run(tmp_path_factory):
    """A data directory whose serving run was trained on the planned file; its series
    that lacks a planned week, and that week."""
    root = tmp_path_factory.mktemp("planned")
    path, data_dir = root / "planned.csv", root / "data"
    uid, when = planned_weekly_file(path)
    # the drivers are named: on twelve series a display one week in six is too rare to
    # pass the screen beyond noise, and these tests are about the plan, not the screen
    _run_naming_drivers(data_dir, path, "linear_trend,xgboost")
    return data_dir, uid, when


@pytest.fixture(scope="module")
def planned_client(planned_run):
    data_dir, uid, when = planned_run
    client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()
    return client, uid, when


def test_the_run_log_names_the_hole_and_keeps_every_other_plan(planned_client):
    client, uid, when = planned_client
    log = client.get("/api/runs/1/log.txt").get_data(as_text=True)
    assert f"{uid}: display blank in 1 planned period(s) from {when:%Y-%m-%d}" in log
    assert "planned values for the first 8 periods" in log  # the hole was filled by rule
    body = client.post("/api/forecast", json={"horizon": H, "series": uid}).get_json()
    assert body["plan"]["planned_periods"] == H
    assert any("display" in line and "no promotion" in line for line in body["plan"]["holes"])
    filled = next(p for p in body["predictions"] if p["date"] == f"{when:%Y-%m-%d}")
    assert filled["planned"] and filled["drivers"]["display"] == 0.0


def test_retraining_the_stored_version_keeps_the_drivers_named(tmp_path):
    """Named drivers are given to a later run on the stored version as they were to the
    first (a stranger's retrain after an append screened them and dropped the price)."""
    path, data_dir = tmp_path / "planned.csv", tmp_path / "data"
    planned_weekly_file(path)
    _run_naming_drivers(data_dir, path, "linear_trend,xgboost")
    again = cli(
        data_dir, "train", "--horizon", str(H), "--models", "linear_trend,xgboost",
        "--jobs", "1", "--quiet", "--no-tracking",
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()
    assert client.get("/api/metrics").get_json()["run_id"] == 2
    roles = {d["name"]: d["role"] for d in client.get("/api/drivers").get_json()["drivers"]}
    assert roles == {"price": "price", "display": "promotion"}
    log = client.get("/api/runs/2/log.txt").get_data(as_text=True)
    assert "not used (validation score" not in log  # nothing screened out
    assert "; drivers price, display (named)" in log  # and the log says so


def test_metrics_give_the_held_out_scores_with_and_without_the_plan(planned_client):
    client, _, _ = planned_client
    holdout = client.get("/api/metrics").get_json()["served"]["holdout"]
    for key in ("with_plan", "without_plan"):
        assert {"mase", "rmsse", "wape", "coverage80", "coverage95"} <= set(holdout[key])
    assert holdout["with_plan"]["mase"] < holdout["without_plan"]["mase"]
    served = client.get("/api/metrics").get_json()["served"]
    assert served["headline"] == "with_plan"  # the file plans its drivers: that serves
    assert served["mase"] == holdout["with_plan"]["mase"]
    models = {m["model"]: m["test"] for m in client.get("/api/metrics").get_json()["models"]}
    assert served["baseline"]["mase"] == models["seasonal_naive"]["mase"]  # the warning's peer
    # which scores used the drivers' true held-out values, said per model
    scored_with = {
        m["model"]: m["true_drivers"] for m in client.get("/api/metrics").get_json()["models"]
    }
    assert scored_with["linear_trend"] == ["price", "display"]
    assert scored_with["seasonal_naive"] == [] and scored_with["naive"] == []


def test_the_drivers_route_gives_each_groups_elasticity_and_lift(planned_client):
    client, _, _ = planned_client
    body = client.get("/api/drivers").get_json()
    roles = {d["name"]: d["role"] for d in body["drivers"]}
    assert roles == {"price": "price", "display": "promotion"} and body["constrained"]
    total = {g["driver"]: g for g in body["groups"] if g["group"] == "total"}
    assert total["price"]["effect"] < -0.5 and total["display"]["effect"] > 1.1
    assert {g["group"] for g in body["groups"]} >= {"store=st0", "item=it1"}
    assert len(body["series"]) == 2 * 12 and all(s["effect"] is not None for s in body["series"])


def test_many_series_in_one_call_equal_the_answers_one_by_one(planned_client):
    client, _, _ = planned_client
    ids = client.get("/api/series").get_json()["series"]
    batch = client.post("/api/forecast", json={"horizon": H, "series": ids}).get_json()
    assert [f["series"] for f in batch["forecasts"]] == ids
    for item in batch["forecasts"]:
        one = client.post("/api/forecast", json={"horizon": H, "series": item["series"]})
        assert one.get_json()["predictions"] == item["predictions"]
    group = client.post(
        "/api/forecast", json={"horizon": H, "group": "store=st1", "per_series": True}
    ).get_json()
    assert {f["series"] for f in group["forecasts"]} == {
        i for i in ids if i.startswith("store=st1/")
    }
    what_if = client.post(
        "/api/forecast", json={"horizon": H, "series": ids[:3], "drivers": {"price": 2.0}}
    ).get_json()
    for f in what_if["forecasts"]:  # each period says the price its forecast used
        said = " ".join(f["plan"]["outside"])
        used = {p["drivers"]["price"] for p in f["predictions"]}
        assert used == {2.0} or (
            len(used) == 1 and f["series"] in said and f"forecast at {used.pop():g}" in said
        ), (f["series"], used, said)
    from dashapp.callbacks.forecast import _edited_plan
    from dashapp.state import app_state
    from forecasting.errors import DataError
    from forecasting.serving.scopes import Scope

    with client.application.app_context():  # the Forecast page's plan table says it too
        reads = app_state().reads
        on_file = [{"date": "2099-01-01", "price": 2.0, "display": 0.0}]
        with pytest.raises(DataError, match="gives price -3; give a price above zero"):
            _edited_plan(reads, Scope(series=ids[0]), 1, [{**on_file[0], "price": "-3"}], on_file)
    for price in (-3, 0):  # a price below zero is a typo, not a what-if
        below = client.post("/api/forecast", json={"horizon": H, "drivers": {"price": price}})
        assert below.status_code == 422, below.get_json()
        assert "is a price and got" in below.get_json()["detail"]
        assert list(below.get_json()["fields"]["json"]) == ["drivers"]


def test_the_data_page_says_so_when_no_served_forecast_uses_a_price(tmp_path):
    """Drivers named, models chosen that read none: the page says why there are no
    elasticities instead of showing an empty table (a stranger's find)."""
    from dashapp.state import app_state

    path, data_dir = tmp_path / "planned.csv", tmp_path / "data"
    planned_weekly_file(path)
    _run_naming_drivers(data_dir, path, "ets", "--windows", "2")
    server = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server
    from dashapp.pages.data import _effects_section  # a page registers with the app

    with server.app_context():
        reads = app_state().reads
        section = str(_effects_section(reads, reads.serving_run().dataset_id))
    assert "No served forecast uses price, display" in section
    assert "DataTable" not in section


def test_without_a_plan_on_file_the_run_heads_the_scores_of_what_serves(tmp_path):
    """Drivers named, none planned in the file: the stored forecast is made without a
    plan, so the run's headline scores are those (a stranger saw the 'perfect plan'
    figure head the run while the forecast without a plan served)."""
    from pipeline.formatting import without_plan
    from tests.support.files import priced_promoted_weekly

    path, data_dir = tmp_path / "history.csv", tmp_path / "data"
    priced_promoted_weekly(12, weeks=120).to_csv(path, index=False)
    _run_naming_drivers(data_dir, path, "linear_trend,xgboost")
    client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()
    served = client.get("/api/metrics").get_json()["served"]
    holdout = served["holdout"]
    assert served["headline"] == "without_plan" and holdout["series_a_plan_moves"] > 0
    assert served["mase"] == holdout["without_plan"]["mase"] > holdout["with_plan"]["mase"]
    assert served["coverage80"] == holdout["without_plan"]["coverage80"]
    steps = served["coverage80_by_step"]  # every series held out whole: steps average to it
    assert abs(sum(steps) / len(steps) - served["coverage80"]) < 1e-3
    assert without_plan(served).startswith("Those are without a plan, the forecast that serves")
    run = client.get("/api/runs/1").get_json()
    from dashapp.run_panel import outcome_text

    ended = outcome_text(run)  # Retraining's outcome line says it too, with the names
    used = [n for n, row in served["drivers"].items() if row["used"]]
    assert used and f"The file plans no future {', '.join(used)}:" in ended
    log = client.get("/api/runs/1/log.txt").get_data(as_text=True)
    assert "(without a plan: the file plans no driver)" in log
    # each series names what makes its stored forecast, and what a plan switches it to
    details = client.get("/api/series").get_json()["details"]
    switched = [d for d in details if "served_with_a_plan" in d]
    assert switched and all(d["served_by"] != d["served_with_a_plan"] for d in switched)
    assert all("xgboost" not in d["served_by"] for d in switched)  # reads no driver
    from dashapp.state import app_state  # the Overview's card names the same

    with client.application.app_context():
        stored = app_state().reads.serving_run().serving.stored_choice()
    assert all(stored[d["unique_id"]] == d["served_by"] for d in details)


def test_the_command_line_forecasts_a_stored_run_with_the_plan_file_it_is_given(
    planned_run, planned_client, tmp_path
):
    """``pipeline forecast --future`` on the serving run: a plan for one series, in the
    file's own column order, is that series' plan; a file of dates and drivers only is
    every forecast series' plan; a file for other series is refused with why. A
    stranger's one-series plan was read under another name and silently dropped."""
    data_dir, uid, _ = planned_run
    client = planned_client[0]
    store, item = (part.split("=")[1] for part in uid.split("/"))
    weeks = pd.date_range(_first_week(client, uid), periods=H, freq="7D")
    drivers = {"price": 2.0, "display": 1.0}
    api = client.post(
        "/api/forecast", json={"horizon": H, "series": uid, "drivers": drivers}
    ).get_json()["predictions"]
    files = {
        "one series": pd.DataFrame({"item": item, "store": store, "week": weeks, **drivers}),
        "drivers only": pd.DataFrame({"week": weeks, **drivers}),
    }
    for name, frame in files.items():
        plan, out = tmp_path / f"{name}.csv", tmp_path / f"{name} forecast.csv"
        frame.to_csv(plan, index=False)
        done = cli(data_dir, "forecast", "--series", uid, "--horizon", str(H),
                   "--future", str(plan), "--out", str(out))  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        got = pd.read_csv(out)
        # the price is held within the series' history, as the API holds it
        assert got["planned"].all(), name
        assert got["price"].tolist() == [p["drivers"]["price"] for p in api], name
        assert got["display"].eq(1.0).all(), name
        assert np.allclose(got["yhat"], [p["value"] for p in api], rtol=1e-6), name
    other = tmp_path / "other.csv"
    files["one series"].assign(store="st9").to_csv(other, index=False)
    refused = cli(data_dir, "forecast", "--series", uid, "--horizon", str(H),
                  "--future", str(other))  # fmt: skip
    assert refused.returncode != 0
    assert "none for the series forecast (store=st0/item=it0" in refused.stderr + refused.stdout
    assert "(store, item)" in refused.stderr + refused.stdout


def _first_week(client, uid: str) -> str:
    body = client.post("/api/forecast", json={"horizon": 1, "series": uid}).get_json()
    return body["predictions"][0]["date"]
