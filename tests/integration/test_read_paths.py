"""The command line, the JSON API, the Forecast page and the MLflow model give the same
numbers for the same request, also past the end of a driver plan (``pipeline.serving``)."""

from __future__ import annotations

import json
import os

import mlflow
import numpy as np
import pandas as pd
import pytest

from dashapp import create_app
from tests.support.servers import cli

HORIZON = 14
PLANNED = 5  # days of promotion plan past the last sale: shorter than what is asked
ASKED = 21  # past the plan and past the validated horizon
SERIES = "store=east/item=tea"


def _promo_csv(path) -> None:
    """Three store x item series whose sales a promotion lifts, with a short plan."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", periods=160 + PLANNED, freq="D")
    rows = []
    for store, item, level in (("east", "tea", 40), ("east", "cake", 15), ("west", "tea", 25)):
        promo = (rng.random(len(days)) < 0.2).astype(int)
        units = level * (1 + 0.6 * promo) + rng.normal(0, 2, len(days))
        for i, day in enumerate(days):
            sold = "" if i >= len(days) - PLANNED else round(max(units[i], 0.0), 1)
            rows.append((day.date(), store, item, sold, promo[i]))
    pd.DataFrame(rows, columns=["date", "store", "item", "units", "promo"]).to_csv(
        path, index=False
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A tracked run with ``promo`` as a driver, trained through the command line."""
    work = tmp_path_factory.mktemp("read-paths")
    csv = work / "promo.csv"
    _promo_csv(csv)
    data_dir = work / "data"
    result = cli(
        data_dir, "run", "--csv", str(csv), "--exog", "promo", "--models", "linear_trend",
        "--trials", "0", "--horizon", str(HORIZON), "--jobs", "1", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return data_dir


def _command_line(data_dir, tmp_path, *args: str) -> pd.DataFrame:
    out = tmp_path / "cli.csv"
    result = cli(data_dir, "forecast", "--horizon", str(ASKED), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    return frame.loc[(frame["store"] == "east") & (frame["item"] == "tea")].reset_index()


def _api(client, **body) -> pd.DataFrame:
    response = client.post("/api/forecast", json={"horizon": ASKED, "series": SERIES, **body})
    assert response.status_code == 200, response.get_json()
    return pd.DataFrame(response.get_json()["predictions"])


def _page(client, model: str = "selected") -> pd.DataFrame:
    """The Forecast page's table, asked the way the browser asks Dash for it."""
    outputs = [
        ("forecast-chart", "figure"), ("forecast-chart-title", "children"),
        ("forecast-table", "data"), ("forecast-table", "columns"),
        ("forecast-message", "children"),
    ]  # fmt: skip
    client.get("/forecast")  # Dash registers the page's callbacks at the first request
    payload = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [
            {"id": "forecast-series", "property": "value", "value": f"series:{SERIES}"},
            {"id": "forecast-horizon", "property": "value", "value": ASKED},
            {"id": "forecast-model", "property": "value", "value": model},
            [],
        ],
        "state": [[]],
        "changedPropIds": ["forecast-horizon.value"],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(True)
    table = json.loads(response.get_data(True))["response"]["forecast-table"]["data"]
    return pd.DataFrame(table)


def _pyfunc(data_dir, **columns) -> pd.DataFrame:
    uri = f"sqlite:///{data_dir / 'mlflow.sqlite'}"
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        model = mlflow.pyfunc.load_model("models:/sales-forecaster@production")
    finally:  # the URIs are the process's (and exported): a later test must not find them
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            os.environ.pop(name, None)
    asked = pd.DataFrame({"horizon": [ASKED], "unique_id": [SERIES], **columns})
    return model.predict(asked).reset_index(drop=True)


@pytest.mark.parametrize("model", [None, "linear_trend", "naive"])
def test_four_readers_agree_past_the_end_of_the_plan(served, tmp_path, model):
    client = create_app({"DATA_DIR": str(served)}).server.test_client()
    chosen = {"model": model} if model else {}
    command_line = _command_line(served, tmp_path, *(["--model", model] if model else []))
    api = _api(client, **chosen)
    page = _page(client, model or "selected")
    pyfunc = _pyfunc(served, **({"model": [model]} if model else {}))
    assert len(command_line) == len(api) == len(page) == len(pyfunc) == ASKED
    dates = pd.to_datetime(api["date"])
    assert (pd.to_datetime(command_line["ds"]) == dates).all()
    assert (pd.to_datetime(page["date"]) == dates).all()
    assert (pd.to_datetime(pyfunc["ds"]) == dates).all()
    np.testing.assert_allclose(command_line["yhat"], api["value"], atol=6e-5)  # 4 places
    np.testing.assert_allclose(pyfunc["yhat"], api["value"], rtol=1e-6)
    np.testing.assert_allclose(page["forecast"], api["value"], atol=0.006)  # shown to 2 places
    np.testing.assert_allclose(pyfunc["lo95"], api["lower"], rtol=1e-6)  # the API: 95% by default
    np.testing.assert_allclose(page["upper 95%"], api["upper"], atol=0.006)
    assert api["extrapolated"].sum() == ASKED - HORIZON  # the bands past the validated days
