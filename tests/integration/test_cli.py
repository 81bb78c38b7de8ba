"""The command line on the bundled samples, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from tests.support.files import launch_and_never_sold
from tests.support.frames import ROOT

#: every test here runs the command line in another interpreter
pytestmark = pytest.mark.integration


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_backtest_on_the_original_sample_writes_json_and_forecasts(tmp_path, ecommerce_csv):
    out_json, out_csv = tmp_path / "scores.json", tmp_path / "forecasts.csv"
    result = _run(
        "backtest",
        "--csv",
        str(ecommerce_csv),
        "--horizon",
        "28",
        "--models",
        "linear_trend,theta,xgboost",
        "--trials",
        "2",
        "--quiet",
        "--json",
        str(out_json),
        "--forecasts",
        str(out_csv),
    )
    assert result.returncode == 0, result.stderr
    assert "seasonal_naive" in result.stdout and "selected" in result.stdout
    scores = json.loads(out_json.read_text())
    assert scores["dataset"] == {"series": 1, "rows": 669, "freq": "D"}
    assert scores["horizon"] == 28
    always = {"seasonal_naive", "naive", "croston", "tsb", "adida", "imapa", "imapa_total"}
    # with a driver in use the recent mean competes too, for the periods past the plan
    past_plan = {"recent_mean"} if any(d["used"] for d in scores["drivers"].values()) else set()
    assert set(scores["models"]) == {"linear_trend", "theta", "xgboost", *always, *past_plan}
    keys = {"mase", "rmsse", "wape", "smape", "mape", "mae", "rmse"}
    assert keys <= set(scores["selected"]["metrics"])
    assert set(scores["coverage"]) == {"80", "95"}
    # the served forecast beats the seasonal-naive baseline on this trending series
    assert scores["selected"]["metrics"]["mase"] < scores["models"]["seasonal_naive"]["mase"]
    frame = pd.read_csv(out_csv)
    assert list(frame.columns) == [
        "product_category",
        "ds",
        "y",
        "yhat",
        *(["served_without_plan"] if past_plan else []),  # what serves past a plan
        "lo80",
        "hi80",
        "lo95",
        "hi95",
    ]
    assert len(frame) == 28
    assert (frame["lo95"] <= frame["lo80"]).all() and (frame["hi80"] <= frame["hi95"]).all()


def test_forecast_on_the_multi_series_sample(tmp_path, store_item_csv):
    out = tmp_path / "forecast.csv"
    result = _run(
        "forecast",
        "--csv",
        str(store_item_csv),
        "--horizon",
        "14",
        "--models",
        "linear_trend,theta",
        "--quiet",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert list(frame.columns[:3]) == ["store", "item", "ds"]
    assert len(frame) == 9 * 14
    assert frame["ds"].min() == "2025-01-01"
    assert (frame["lo80"] >= 0).all()  # sales bands never go below zero


def test_forecast_with_drivers_but_no_plan_serves_without_them_and_says_so(
    tmp_path, store_item_csv
):
    out = tmp_path / "forecast.csv"
    sales = pd.read_csv(store_item_csv)
    unplanned = tmp_path / "unplanned.csv"  # the sample's plan rows dropped
    sales.dropna(subset=["units_sold"]).to_csv(unplanned, index=False)
    result = _run(
        "forecast", "--csv", str(unplanned), "--horizon", "7", "--exog", "promo",
        "--models", "linear_trend", "--quiet", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "drivers promo: no planned values; served without promo" in result.stdout
    assert len(pd.read_csv(out)) == 9 * 7


def test_bad_input_prints_the_message_and_exits_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,sales\n2024-01-01,1\nyesterday,2\n2024-01-03,3\n")
    result = _run("backtest", "--csv", str(bad), "--horizon", "7", "--quiet")
    assert result.returncode == 2
    assert result.stderr.startswith("error: Column 'date' has 1 value(s) that are not dates")
    assert "Traceback" not in result.stderr
    missing = _run("backtest", "--csv", str(tmp_path / "nope.csv"), "--horizon", "7")
    assert missing.returncode == 2 and "File not found" in missing.stderr
    unknown = _run("backtest", "--csv", str(bad), "--horizon", "7", "--models", "lstm")
    assert unknown.returncode == 2 and "Unknown model(s) lstm" in unknown.stderr


def test_optuna_studies_persist_when_given_a_storage(tmp_path, ecommerce_csv):
    import optuna

    url = f"sqlite:///{tmp_path / 'optuna.sqlite'}"
    result = _run(
        "backtest",
        "--csv",
        str(ecommerce_csv),
        "--horizon",
        "14",
        "--quiet",
        "--models",
        "linear_trend,theta",
        "--trials",
        "3",
        "--optuna-storage",
        url,
    )
    assert result.returncode == 0, result.stderr
    studies = {s.study_name: s for s in optuna.get_all_study_summaries(storage=url)}
    names = sorted(n.rsplit("-", 1)[-1] for n in studies)
    assert names == ["linear_trend", "theta", "tsb"]  # TSB's two smoothing weights are tuned too
    assert all(s.n_trials == 3 for s in studies.values())


def test_forecast_with_planned_driver_values(tmp_path, store_item_csv):
    dates = pd.date_range("2025-01-01", periods=7)
    keys = [(s, i) for s in ("north", "south", "online") for i in ("coffee", "kettle", "mug")]
    means = {}
    for promo in (0, 1):
        future = tmp_path / f"future{promo}.csv"
        pd.DataFrame(
            [
                {"date": d.date(), "store": s, "item": i, "promo": promo}
                for s, i in keys
                for d in dates
            ]
        ).to_csv(future, index=False)
        out = tmp_path / f"forecast{promo}.csv"
        result = _run(
            "forecast",
            "--csv",
            str(store_item_csv),
            "--horizon",
            "7",
            "--exog",
            "promo",
            "--future",
            str(future),
            "--models",
            "linear_trend",
            "--quiet",
            "--out",
            str(out),
        )
        assert result.returncode == 0, result.stderr
        frame = pd.read_csv(out)
        assert len(frame) == 63 and frame["ds"].min() == "2025-01-01"
        means[promo] = frame["yhat"].mean()
    # the sample's promotions lift sales by half; a planned promotion must show it
    assert means[1] > 1.3 * means[0]


def test_every_series_of_a_planners_file_gets_a_forecast(tmp_path):
    source, out = tmp_path / "sales.csv", tmp_path / "forecast.csv"
    source.write_bytes(launch_and_never_sold())
    result = _run(
        "forecast", "--csv", str(source), "--horizon", "14", "--models", "linear_trend,theta",
        "--quiet", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert frame.groupby("item").size().to_dict() == {
        "coffee": 14, "descaler": 14, "gift box": 14, "kettle": 14, "launch": 14,
    }  # fmt: skip
    assert (frame.loc[frame["item"] == "gift box", ["yhat", "hi95"]] == 0).all().all()
    launch = frame.loc[frame["item"] == "launch"]
    assert launch["yhat"].eq(5.0).all() and (launch["hi95"] > launch["yhat"]).all()
    lines = result.stdout.splitlines()
    new = "new: 3 days of history, level forecast"
    assert any("item=launch" in x and new in x for x in lines)
    assert any("item=gift box" in x and "no sales yet: zero forecast" in x for x in lines)
    assert "intermittent" in result.stdout  # the slow mover's demand class is reported


def test_a_file_of_zeros_forecasts_zeros(tmp_path):
    source, out = tmp_path / "zeros.csv", tmp_path / "forecast.csv"
    days = pd.date_range("2024-01-01", periods=60)
    pd.DataFrame({"date": days.date, "sales": 0}).to_csv(source, index=False)
    result = _run("forecast", "--csv", str(source), "--horizon", "7", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert len(frame) == 7
    assert (frame[["yhat", "lo80", "hi80", "lo95", "hi95"]] == 0).all().all()


def test_a_run_on_short_series_only_says_why_and_leaves_the_validated_model_serving(tmp_path):
    """Four weeks of 3 series stored with Replace data (a planner's slip) after a run on
    their history: nothing can be validated 28 days ahead. The run succeeds on the series'
    levels (it failed with "No objects to concatenate"), says what a file needs, and the
    run that validated models keeps serving (a stranger's levels replaced it)."""
    from tests.support.servers import cli

    history, weeks, data_dir = tmp_path / "history.csv", tmp_path / "weeks.csv", tmp_path / "d"
    days = pd.date_range("2024-08-05", periods=147)
    rows = [(d.date(), item, 10 + 3 * k + (d.dayofweek == 5)) for d in days
            for k, item in enumerate(["tea", "coffee", "cocoa"])]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["date", "item", "units"])
    frame.to_csv(history, index=False)
    frame[frame["date"] >= days[-28].date()].to_csv(weeks, index=False)
    quick = ("--no-tracking", "--quiet", "--models", "naive,seasonal_naive")
    first = cli(data_dir, "run", "--csv", str(history), "--horizon", "28", *quick)
    assert first.returncode == 0, first.stdout + first.stderr
    result = cli(data_dir, "run", "--csv", str(weeks), "--horizon", "28", *quick)
    assert result.returncode == 0, result.stdout + result.stderr
    log = (data_dir / "logs" / "2.log").read_text()
    assert "no series is long enough to validate a model for 28 periods ahead" in log
    assert "that needs 56 periods of history" in log
    assert "stored 1095 forecast rows" in log  # every series, a year ahead
    assert "run 2 does not serve: it validated no model" in log
    listed = json.loads(cli(data_dir, "runs", "--json").stdout)["runs"]
    assert [r["id"] for r in listed if r["production"]] == [1]
    # a shorter horizon validates what the history allows (its scores failed the run)
    again = cli(data_dir, "train", "--horizon", "14", *quick)
    assert again.returncode == 0, again.stdout + again.stderr
    log = (data_dir / "logs" / "3.log").read_text()
    assert "validated 6 ahead instead" in log and "run 3 succeeded; it now serves" in log


def test_a_listing_into_a_pipe_closed_early_ends_quietly(tmp_path):
    """``python -m pipeline runs | head``: once the reader has closed the pipe, the command
    stops as a shell's commands do (141), without a traceback."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    listing = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "runs"],
        cwd=ROOT,
        env={**env, "DATA_DIR": str(tmp_path / "data")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    listing.stdout.close()  # long before the command has imported what it needs
    said = listing.stderr.read().decode()
    assert listing.wait(timeout=300) == 141, said
    assert "Traceback" not in said and "BrokenPipeError" not in said
