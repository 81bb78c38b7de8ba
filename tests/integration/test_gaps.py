"""A missing record is not a sale of zero: the default gap policy tells them apart."""

from __future__ import annotations

import io

import pandas as pd

from forecasting.data.loading import load_csv
from tests.support.files import weekly_stores_with_lost_weeks
from tests.support.servers import cli


def _wape_on_real_weeks(forecasts: pd.DataFrame, real: pd.DataFrame) -> float:
    scored = forecasts.merge(real, on=["store", "ds"], suffixes=("", "_file"))
    return float((scored["yhat"] - scored["sales"]).abs().sum() / scored["sales"].abs().sum())


def test_the_default_forecast_scores_as_well_as_interpolation_on_the_real_weeks(tmp_path):
    raw, lost = weekly_stores_with_lost_weeks()
    path = tmp_path / "weekly.csv"
    path.write_bytes(raw)
    real = pd.read_csv(path, parse_dates=["week"]).rename(columns={"week": "ds"})
    wape, outputs = {}, {}
    for policy in ("default", "interpolate", "zero"):
        out = tmp_path / f"{policy}.csv"
        flags = [] if policy == "default" else ["--gap-policy", policy]
        result = cli(
            tmp_path / "data", "backtest", "--csv", str(path), "--horizon", "13",
            "--forecasts", str(out), "--jobs", "1", "--quiet", *flags,
            "--models", "linear_trend,theta",  # the gap policy is on trial, not the model set
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        forecasts = pd.read_csv(out, parse_dates=["ds"])
        wape[policy] = _wape_on_real_weeks(forecasts, real)
        outputs[policy] = result.stdout
    held_out_real = real.loc[real["ds"] > real["ds"].max() - pd.Timedelta(weeks=13)]
    assert len(held_out_real) < 3 * 13  # some held-out weeks are lost, and not scored here
    assert wape["default"] <= wape["interpolate"] + 1e-9, wape
    assert wape["default"] < wape["zero"], wape
    said = outputs["default"]
    assert f"auto: {lost} missing weeks are lost records in " in said  # and where
    assert "series (most in " in said and "), interpolated along" in said
    print(f"held-out WAPE on the real weeks: {wape}")


def test_the_upload_api_states_the_rule_per_data_set(empty_client):
    raw, lost = weekly_stores_with_lost_weeks()
    response = empty_client.post("/api/upload", data={"file": (io.BytesIO(raw), "weekly.csv")})
    assert response.status_code == 201, response.get_json()
    cleaning = response.get_json()["report"]["cleaning"]
    assert cleaning["gap_policy"] == "auto" and cleaning["gaps_as_missing"] == lost
    overview = empty_client.get("/api/eda?dataset_id=1").get_json()["overview"]
    assert overview["gap_policy"] == "auto" and "interpolated" in overview["gap_rule"]
    # the stored rows are the file's weeks plus the interpolated ones, no zero among them
    loaded = load_csv(raw).frame
    assert cleaning["rows_out"] == len(loaded) + lost
    # and the history says which values the file did not have, series by series
    pairs = zip(loaded["unique_id"], loaded["ds"], strict=True)
    stored = {(uid, ds.date().isoformat()) for uid, ds in pairs}
    total = empty_client.get("/api/historical").get_json()["data"]
    assert sum(p["filled"] for p in total) == lost
    uid = loaded["unique_id"].iloc[0]
    one = empty_client.get(f"/api/historical?series={uid}").get_json()["data"]
    assert all(p["filled"] == ((uid, p["date"]) not in stored) for p in one)
    # the Overview's total says how much of it the file did not have (a stranger's total
    # was 4,572 above their file's sum, unsaid)
    from dashapp.callbacks.overview import update

    with empty_client.application.app_context():
        total_card = str(update("__total__")[0][0])
    made_up = sum(p["value"] for p in total) - loaded["y"].sum()
    assert made_up > 0 and f"{made_up:,.0f} of it filled in where the file had no value" in (
        total_card
    )
