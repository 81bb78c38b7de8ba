"""MLflow's own scoring server (``mlflow models serve``) on the registered production model
answers what ``POST /api/forecast`` answers: one series, a list, a group and a what-if,
to 1e-6, with null where a value does not exist (issue 29)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from dashapp import create_app
from tests.support.servers import free_port

SERIES = "store=north/item=coffee"
H = 5


@pytest.fixture(scope="module")
def scoring(trained_dir, tmp_path_factory):
    """The registered production model behind ``mlflow models serve``, and the app's API
    on the same data directory."""
    import shutil

    data_dir = tmp_path_factory.mktemp("serving") / "data"
    shutil.copytree(trained_dir, data_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{data_dir / 'mlflow.sqlite'}"
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m",
         "models:/sales-forecaster@production", "--env-manager", "local",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(f"{url}/ping", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still starting
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise AssertionError("mlflow models serve did not start")
            time.sleep(1)
        app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
        yield url, app.server.test_client()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _score(url: str, records: list[dict]) -> list[dict]:
    response = requests.post(f"{url}/invocations", json={"dataframe_records": records}, timeout=120)
    assert response.status_code == 200, response.text
    text = response.text
    assert "NaN" not in text, "the answer must be JSON: null, never NaN"
    return json.loads(text)["predictions"]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _same(served: list[dict], points: list[dict], level: int = 95) -> None:
    assert len(served) == len(points)
    for row, point in zip(served, points, strict=True):
        assert row["ds"][:10] == point["date"]
        assert _close(row["yhat"], point["value"])
        assert _close(row[f"lo{level}"], point["lower"]) and _close(
            row[f"hi{level}"], point["upper"]
        )


def test_one_series_a_list_a_group_and_a_what_if_answer_as_the_api(scoring):
    url, api = scoring
    one = api.post("/api/forecast", json={"horizon": H, "series": SERIES}).get_json()
    _same(_score(url, [{"horizon": H, "series": SERIES}]), one["predictions"])

    listed = ["store=north/item=coffee", "store=south/item=mug"]
    both = api.post("/api/forecast", json={"horizon": H, "series": listed}).get_json()
    served = _score(url, [{"horizon": H, "series": s} for s in listed])
    for forecast in both["forecasts"]:
        mine = [r for r in served if r["unique_id"] == forecast["series"]]
        _same(mine, forecast["predictions"])

    group = api.post("/api/forecast", json={"horizon": H, "group": "store=south", "level": 80})
    summed = _score(url, [{"horizon": H, "group": "store=south", "level": 80}])
    _same(summed, group.get_json()["predictions"], level=80)

    drivers = api.get("/api/drivers").get_json()["drivers"]
    used = [d["name"] for d in drivers if d.get("used")]
    name = used[0] if used else None
    if name is not None:
        what_if = {"horizon": H, "series": SERIES, "drivers": {name: 1.0}}
        answered = api.post("/api/forecast", json=what_if).get_json()
        _same(_score(url, [{"horizon": H, "series": SERIES, name: 1.0}]), answered["predictions"])
