"""The planner's loop through the JSON API and the command line, on real runs: train on a
monthly file without its last 12 months, append them, score the stored forecast on them,
roll back, prune; and totals that add up."""

from __future__ import annotations

import io
import shutil
import time

import numpy as np
import pandas as pd
import pytest

from dashapp import create_app
from tests.support.files import monthly_store_items
from tests.support.loop import CUT, expected_accuracy, rows_of
from tests.support.servers import cli


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _upload(client, raw: bytes, name: str, **form):
    return client.post("/api/upload", data={"file": (io.BytesIO(raw), name), **form})


def _train(client, **body) -> dict:
    started = client.post("/api/runs", json={"models": ["linear_trend"], **body})
    assert started.status_code == 202, started.get_json()
    run_id = started.get_json()["id"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").get_json()
        if run["status"] not in ("queued", "running"):
            assert run["status"] == "succeeded", run
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not end: {run}")


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    return monthly_store_items()


@pytest.fixture(scope="module")
def trained_monthly(tmp_path_factory, monthly):
    """A data directory: the history uploaded (run 1, version 1) and trained (run 2)."""
    data_dir = tmp_path_factory.mktemp("loop") / "data"
    client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()
    uploaded = _upload(client, _csv(monthly[monthly["month"] < CUT]), "history.csv")
    assert uploaded.status_code == 201, uploaded.get_json()
    _train(client)
    return data_dir


@pytest.fixture
def loop(trained_monthly, tmp_path):
    """A private copy of the trained directory and a client on it."""
    data_dir = tmp_path / "data"
    shutil.copytree(trained_monthly, data_dir)
    client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()
    return client, data_dir


def test_appended_actuals_score_the_stored_forecast(loop, monthly):
    client, data_dir = loop
    before = client.get("/api/accuracy").get_json()
    assert before["run_id"] == 2 and before["periods"] == 0 and before["mase"] is None
    appended = _upload(client, _csv(monthly[monthly["month"] >= CUT]), "new.csv", mode="append")
    assert appended.status_code == 201, appended.get_json()
    report = appended.get_json()["report"]["append"]
    assert report["appended_to"] == 1 and report["new_periods"] == 12
    assert report["revisions"] == 0 and report["first_new_period"] == CUT
    versions = rows_of(data_dir, "select id, parent_id, series_count, row_count from "
                     "dataset_versions order by id")  # fmt: skip
    assert versions == [(1, None, 6, 288), (2, 1, 6, 360)]  # the earlier version is kept
    body = client.get("/api/accuracy?run_id=2").get_json()
    expected = expected_accuracy(data_dir, 2, monthly)
    assert body["periods"] == expected["periods"] == 12
    assert body["points"] == expected["points"] == 72
    for name in ("mase", "rmsse", "wape", "bias", "coverage80", "coverage95"):
        assert body[name] == pytest.approx(expected[name], rel=1e-9), name
    assert body["promised"]["mase"] == client.get("/api/metrics").get_json()["served"]["mase"]
    assert len(body["series"]) == 6 and [s["step"] for s in body["steps"]] == list(range(1, 13))
    assert body["drift"]["rule"].startswith("drift: realised WAPE 1.5x the held-out WAPE")
    # the same answer from the command line
    said = cli(data_dir, "accuracy", "--run", "2")
    assert said.returncode == 0, said.stderr
    assert f"MASE      realised {expected['mase']:8.3f}" in said.stdout
    # the chart names the column run 2 forecast, whatever the serving run's is
    from dashapp.loop_views import last_forecast_section
    from dashapp.state import app_state
    from pipeline.serving import Scope

    with client.application.app_context():
        section = str(last_forecast_section(app_state().reads, Scope(), "Umsatz"))
    assert "'units'" in section and "Umsatz" not in section


def test_realised_accuracy_keeps_its_scale_when_a_later_version_holds_less_history(loop, monthly):
    """The scales come from the history the run was trained on: a stranger's forecast
    read MASE 3.731, then 2.356, as versions were added, its WAPE 32.0% both times."""
    client, _ = loop
    new = _csv(monthly[monthly["month"] >= CUT])
    assert _upload(client, new, "new.csv", mode="append").status_code == 201
    appended = client.get("/api/accuracy?run_id=2").get_json()
    # next month's file alone, stored with Replace data: the same actuals, no history
    assert _upload(client, new, "only-new.csv").status_code == 201
    replaced = client.get("/api/accuracy?run_id=2").get_json()
    assert replaced["points"] == appended["points"] == 72
    assert replaced["wape"] == pytest.approx(appended["wape"], rel=1e-9)
    assert appended["mase"] is not None
    assert replaced["mase"] == pytest.approx(appended["mase"], rel=1e-9)
    assert replaced["rmsse"] == pytest.approx(appended["rmsse"], rel=1e-9)


def test_realised_accuracy_read_a_series_at_a_time_is_the_same(loop, monthly, monkeypatch):
    """A web worker reads the versions it scores a partition at a time (it read them
    whole: a catalogue's two versions at once); the answer is the same."""
    from pipeline.serving import accuracy

    client, _ = loop
    new = _csv(monthly[monthly["month"] >= CUT])
    for name, mode in (("new.csv", "append"), ("only-new.csv", "replace")):
        form = {"mode": mode} if mode == "append" else {}
        assert _upload(client, new, name, **form).status_code == 201
        whole = client.get("/api/accuracy?run_id=2").get_json()
        with monkeypatch.context() as patch:
            patch.setattr(accuracy, "PARTITION_ROWS", 10)  # one series a partition
            accuracy._kept.clear()
            parts = client.get("/api/accuracy?run_id=2").get_json()
        assert parts == whole and whole["points"] == 72, mode


def test_an_append_with_a_revision_lists_it_and_the_new_value_wins(loop, monthly):
    client, data_dir = loop
    new = monthly[monthly["month"] >= "2023-12-01"].copy()  # December 2023 is stored already
    revised = new.index[(new["month"] == "2023-12-01") & (new["store"] == "north")
                        & (new["item"] == "tea")][0]  # fmt: skip
    old_value = float(new.loc[revised, "units"])
    new.loc[revised, "units"] = old_value + 100
    appended = _upload(client, _csv(new), "new.csv", mode="append")
    assert appended.status_code == 201, appended.get_json()
    report = appended.get_json()["report"]["append"]
    assert report["revisions"] == 1 and report["overlapping_rows"] == 6
    assert report["revised"] == [
        {"unique_id": "store=north/item=tea", "ds": "2023-12-01", "before": old_value,
         "after": old_value + 100}
    ]  # fmt: skip
    stored = rows_of(data_dir, "select y from observations where dataset_id = 2 and unique_id = "
                   "'store=north/item=tea' and ds like '2023-12-01%'")  # fmt: skip
    assert stored == [(old_value + 100,)]
    log = client.get(f"/api/runs/{appended.get_json()['run_id']}/log.txt").get_data(as_text=True)
    assert "1 revised values (the new value wins)" in log


def test_a_bad_append_stores_nothing(loop, monthly):
    client, data_dir = loop
    counts = "select (select count(*) from dataset_versions), (select count(*) from runs)"
    before = rows_of(data_dir, counts)
    no_store = monthly[monthly["month"] >= CUT].drop(columns="store")
    refused = _upload(client, _csv(no_store), "new.csv", mode="append")
    assert refused.status_code == 422
    detail = refused.get_json()["detail"]
    assert "columns of data set version 1 (month, units, store, item)" in detail
    assert "Column 'store' is not in the file" in detail
    repeat = _upload(client, _csv(monthly[monthly["month"] < CUT]), "same.csv", mode="append")
    assert repeat.status_code == 422 and "adds nothing" in repeat.get_json()["detail"]
    weekly = monthly[monthly["month"] >= CUT].assign(
        month=lambda f: pd.to_datetime(f["month"]) + pd.Timedelta(days=3)
    )
    shifted = _upload(client, _csv(weekly), "shifted.csv", mode="append")
    assert shifted.status_code == 422, shifted.get_json()
    assert rows_of(data_dir, counts) == before
    assert client.get("/api/accuracy").get_json()["periods"] == 0


def test_promote_an_earlier_run_and_every_reader_serves_it(loop):
    from pipeline import registry
    from storage.settings import Settings

    client, data_dir = loop
    _train(client, horizon=6)  # run 3 serves now
    assert client.post("/api/forecast", json={"horizon": 3}).get_json()["run_id"] == 3
    promoted = client.post("/api/runs/2/promote")
    assert promoted.status_code == 200, promoted.get_json()
    assert promoted.get_json()["production"] is True
    assert client.post("/api/forecast", json={"horizon": 3}).get_json()["run_id"] == 2
    assert client.get("/health").get_json()["production_run_id"] == 2
    settings = Settings(data_dir=data_dir)
    run2 = client.get("/api/runs/2").get_json()
    assert registry.production_version(settings) == registry.version_of(
        settings, run2["mlflow_run_id"]
    )
    said = cli(data_dir, "promote", "3")
    assert said.returncode == 0 and "run 3 serves" in said.stdout, said.stderr
    assert client.post("/api/forecast", json={"horizon": 3}).get_json()["run_id"] == 3


def test_failed_cancelled_and_ingest_runs_cannot_be_promoted(loop):
    from storage import run_rows
    from storage.database import Database

    client, data_dir = loop
    db = Database(f"sqlite:///{data_dir / 'app.sqlite'}")
    for status in ("failed", "cancelled"):
        run_id = run_rows.create_run(db, "train", {"kind": "train"}, 1)
        run_rows.finish(db, run_id, status, error="on purpose")
        refused = client.post(f"/api/runs/{run_id}/promote")
        assert refused.status_code == 409 and f"is {status}" in refused.get_json()["detail"]
    ingest = client.post("/api/runs/1/promote")  # the upload's run trained nothing
    assert ingest.status_code == 409 and "trained no model" in ingest.get_json()["detail"]
    assert client.post("/api/runs/99/promote").status_code == 404
    assert client.get("/health").get_json()["production_run_id"] == 2
    db.dispose()


def test_prune_keeps_the_serving_run_and_the_newest(loop):
    client, data_dir = loop
    _train(client, horizon=6)  # run 3
    _train(client, horizon=6)  # run 4
    assert client.post("/api/runs/2/promote").status_code == 200
    said = cli(data_dir, "prune", "--keep", "1")
    assert said.returncode == 0 and "pruned 1 runs (3)" in said.stdout, said.stdout + said.stderr
    assert not (data_dir / "models" / "3").exists()
    assert (data_dir / "models" / "2").is_dir() and (data_dir / "models" / "4").is_dir()
    assert rows_of(data_dir, "select count(*) from forecasts where run_id = 3") == [(0,)]
    assert rows_of(data_dir, "select count(*) from forecasts where run_id = 2")[0][0] > 0
    assert client.get("/api/runs/3").get_json()["pruned"] is True
    refused = client.post("/api/runs/3/promote")
    assert refused.status_code == 409 and "pruned" in refused.get_json()["detail"]
    assert client.post("/api/forecast", json={"horizon": 3}).get_json()["run_id"] == 2
    again = cli(data_dir, "prune", "--keep", "1")
    assert "nothing to prune" in again.stdout


def test_the_total_and_every_group_add_up_and_the_total_band_is_narrower(client):
    """The bundled sample's trained run (``client`` of ``tests/integration/test_api.py``'s kind)."""
    series = client.get("/api/series").get_json()["series"]
    each = client.post(
        "/api/forecast", json={"horizon": 14, "series": series, "level": 80}
    ).get_json()["forecasts"]
    total = client.post("/api/forecast", json={"horizon": 14, "level": 80}).get_json()
    values = np.array([[p["value"] for p in f["predictions"]] for f in each])
    widths = np.array([[p["upper"] - p["lower"] for p in f["predictions"]] for f in each])
    summed = values.sum(axis=0)
    got = np.array([p["value"] for p in total["predictions"]])
    assert np.allclose(got, summed, rtol=1e-6, atol=0)
    band = np.array([p["upper"] - p["lower"] for p in total["predictions"]])
    assert (band < widths.sum(axis=0)).all()
    store = client.post(
        "/api/forecast", json={"horizon": 14, "group": "store=north", "per_series": True}
    ).get_json()
    members = np.array([[p["value"] for p in f["predictions"]] for f in store["forecasts"]])
    group = client.post("/api/forecast", json={"horizon": 14, "group": "store=north"}).get_json()
    assert np.allclose([p["value"] for p in group["predictions"]], members.sum(axis=0), rtol=1e-6)


def test_an_alias_that_cannot_move_leaves_the_serving_run(loop):
    from storage import run_reads, run_rows
    from storage.database import Database

    client, data_dir = loop
    _train(client, horizon=6)  # run 3 serves
    db = Database(f"sqlite:///{data_dir / 'app.sqlite'}")

    def refuse() -> None:
        raise ConnectionError("the tracking server is down")

    with pytest.raises(ConnectionError):
        run_rows.promote(db, 2, before_commit=refuse)
    assert run_reads.production_run_id(db) == 3
    db.dispose()


def test_retrain_after_append_trains_on_the_new_actuals(loop, monthly, tmp_path):
    client, data_dir = loop
    new = tmp_path / "new.csv"
    new.write_bytes(_csv(monthly[monthly["month"] >= CUT]))
    said = cli(data_dir, "ingest", "--csv", str(new), "--append", "--quiet",
               "--no-tracking", RETRAIN_AFTER_APPEND="1")  # fmt: skip
    assert said.returncode == 0, said.stdout + said.stderr
    run = client.get("/api/runs/3").get_json()
    assert run["kind"] == "run" and run["options"]["append_to"] == 1 and run["production"]
    assert run["dataset_id"] == 2
    forecast = client.post("/api/forecast", json={"horizon": 1}).get_json()
    assert forecast["run_id"] == 3 and forecast["predictions"][0]["date"] == "2025-01-01"


def test_a_run_on_another_sales_column_is_never_scored_against_these_actuals(
    loop, monthly, tmp_path
):
    """Run 2 forecast units. The next version reads the revenue as the sales (a stranger's
    first upload took the revenue): its actuals do not score run 2, and serving run 2 over
    it says so."""
    client, data_dir = loop
    priced = monthly.assign(revenue=monthly["units"] * 2.5)
    path = tmp_path / "priced.csv"
    priced.to_csv(path, index=False)
    stored = cli(data_dir, "ingest", "--csv", str(path), "--target", "revenue", "--quiet")
    assert stored.returncode == 0, stored.stdout + stored.stderr
    refused = client.get("/api/accuracy?run_id=2")
    assert refused.status_code == 409, refused.get_json()
    assert "Run 2 forecast 'units'" in refused.get_json()["detail"]
    assert "reads 'revenue' as the sales" in refused.get_json()["detail"]
    again = client.get("/api/accuracy?run_id=2")  # the refusal, kept for this version
    assert again.status_code == 409 and again.get_json()["detail"] == refused.get_json()["detail"]
    from dashapp.loop_views import runs_table
    from dashapp.state import app_state

    with client.application.app_context():
        rows = {r["run"]: r for r in runs_table(app_state().reads).data}
    assert rows[2]["forecasts"] == "units"  # and why it has no realised score
    assert rows[2]["periods with actuals"] == "none: the newest data reads another sales column"
    assert client.post("/api/runs/2/promote").status_code == 200
    log = client.get("/api/runs/2/log.txt").get_data(as_text=True)
    assert "note: it forecasts 'units', while the newest data set version" in log
