"""Drivers by default: each numeric column is kept only when validation says it helps."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from tests.support.files import priced_daily
from tests.support.frames import ROOT
from tests.support.servers import cli


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--quiet", "--jobs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_price_files_default_backtest_uses_price_and_not_the_noise(tmp_path):
    path = tmp_path / "priced.csv"
    path.write_bytes(priced_daily())
    out = tmp_path / "scores.json"
    result = _cli(
        "backtest", "--csv", str(path), "--horizon", "14", "--models", "linear_trend",
        "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "driver price: used" in result.stdout
    drivers = json.loads(out.read_text())["drivers"]
    assert drivers["price"]["used"] and not drivers["shelf_temp"]["used"]
    assert drivers["price"]["with"] < 0.5 * drivers["price"]["without"]


def test_the_forecast_takes_the_planned_prices_from_rows_past_the_last_sale(tmp_path):
    path, out = tmp_path / "priced.csv", tmp_path / "forecast.csv"
    path.write_bytes(priced_daily(planned=14))
    result = _cli(
        "forecast", "--csv", str(path), "--horizon", "21", "--models", "linear_trend",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "planned values for the first 14 periods; then served without price" in result.stdout
    forecast = pd.read_csv(out, parse_dates=["ds"])
    planned = pd.read_csv(path, parse_dates=["date"]).query("units != units")
    rows = forecast.merge(
        planned, left_on=["product", "ds"], right_on=["product", "date"], suffixes=("", "_plan")
    )
    assert len(rows) == 2 * 14 and len(forecast) == 2 * 21
    assert (rows["price"] == rows["price_plan"]).all()  # each period says the price it used
    assert (
        forecast["planned"].sum() == 2 * 14
        and forecast.loc[~forecast["planned"], "price"].isna().all()
    )
    by_price = rows.groupby(["product", "price"])["yhat"].mean().unstack()
    # the file's sales fall by 18 units per unit of price: 8.0 sells about 72 more than 12.0
    assert (by_price[8.0] - by_price[12.0] > 40).all()


def test_a_run_stores_the_forecast_with_the_files_plan_and_serves_it(tmp_path):
    from dashapp import create_app

    path, data_dir = tmp_path / "priced.csv", tmp_path / "data"
    path.write_bytes(priced_daily(planned=14))
    result = cli(
        data_dir, "run", "--csv", str(path), "--horizon", "14", "--models", "linear_trend",
        "--jobs", "1", "--quiet", "--no-tracking",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()
    log = client.get("/api/runs/1/log.txt").get_data(as_text=True)
    assert "driver price: used" in log and "planned values for the first 14 periods" in log
    assert log.count("driver price: used") == 1  # said when decided, not again at the end
    assert client.get("/api/metrics").get_json()["served"]["drivers"]["price"]["used"]
    body = {"horizon": 14, "series": "product=espresso"}
    points = client.post("/api/forecast", json=body).get_json()["predictions"]
    planned = pd.read_csv(path, parse_dates=["date"]).query("units != units")
    price = planned.loc[planned["product"] == "espresso"].set_index("date")["price"]
    values = pd.Series({pd.Timestamp(p["date"]): p["value"] for p in points})
    by_price = values.groupby(price.reindex(values.index).to_numpy()).mean()
    assert by_price[8.0] - by_price[12.0] > 40
