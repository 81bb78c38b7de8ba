"""The deployment as an operator runs it: lint of the image and compose files, and the
real gunicorn + nginx stack of ``deploy/run-local.sh`` exercised through nginx only."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from storage.database import Database
from storage.datasets import latest_dataset_id
from tests.support.frames import ROOT
from tests.support.servers import run_local, ws_messages

RUN_LOCAL = ROOT / "deploy" / "run-local.sh"


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run(
        ["hadolint", str(ROOT / "Dockerfile")], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def _compose(*args: str, env_file: str | None = ".env.example") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    command = ["docker-compose", "--project-directory", str(ROOT)]
    if env_file:
        command += ["--env-file", str(ROOT / env_file)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )


def test_the_compose_file_is_valid_and_wires_the_services_together():
    assert _compose("config", "-q").returncode == 0, _compose("config", "-q").stderr
    config = json.loads(_compose("config", "--format", "json").stdout)
    services = config["services"]
    assert set(services) == {"app", "nginx", "mlflow", "optuna-dashboard"}
    assert set(config["volumes"]) == {"data", "models", "logs", "cache", "mlflow"}
    app = services["app"]
    assert app["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    mounts = {v["target"]: v["source"] for v in app["volumes"]}
    assert mounts == {"/data": "data", "/data/models": "models", "/data/logs": "logs",
                      "/data/cache": "cache"}  # fmt: skip
    # the Optuna dashboard reads the study file the app writes, on the same volume
    dashboard = services["optuna-dashboard"]
    assert "sqlite:////data/optuna.sqlite" in " ".join(dashboard["command"])
    assert {v["source"]: v["target"] for v in dashboard["volumes"]}["data"] == "/data"
    # nginx is the only service on a public port; the dashboards listen on loopback
    assert [p["host_ip"] for p in services["mlflow"]["ports"]] == ["127.0.0.1"]
    assert [p["host_ip"] for p in dashboard["ports"]] == ["127.0.0.1"]
    assert "ports" not in app
    assert services["nginx"]["environment"]["MAX_UPLOAD_MB"] == app["environment"]["MAX_UPLOAD_MB"]


def test_compose_refuses_to_start_without_a_secret_key(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = _compose("config", "-q", env_file=str(empty))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def _variables_read() -> set[str]:
    """Every environment variable the app, gunicorn_conf.py, run-local.sh and compose read."""
    names = set()
    sources = {
        ROOT / "storage" / "settings.py": r'_(?:text|int)\("([A-Z_]+)"',
        ROOT / "dashapp" / "gunicorn_conf.py": r'(?:_env_int\(|environ\.get\()"([A-Z_]+)"',
        RUN_LOCAL: r"\$\{([A-Z_]+):-",
        ROOT / "docker-compose.yml": r"\$\{([A-Z_]+)[:?-]",
    }
    for path, pattern in sources.items():
        names |= set(re.findall(pattern, path.read_text()))
    return names


def test_every_variable_is_documented_in_the_env_example():
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = _variables_read() - documented
    assert {"DATA_DIR", "SECRET_KEY", "WEB_WORKERS", "PUBLIC_PORT"} <= _variables_read()
    assert not missing, f"not in .env.example: {sorted(missing)}"


# --- the stack of deploy/run-local.sh: nginx -> gunicorn, on free loopback ports ----------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory, trained_dir) -> Iterator[dict]:
    import shutil

    data_dir = tmp_path_factory.mktemp("deploy") / "data"
    shutil.copytree(trained_dir, data_dir)
    # a 1 MB upload limit for nginx and the app, so the 413 test sends little
    with run_local(data_dir, MAX_UPLOAD_MB="1") as running:
        yield running


def test_a_page_and_static_files_come_through_nginx_with_security_headers(stack):
    page = requests.get(stack["url"] + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    headers = page.headers
    assert headers["Server"] == "nginx"  # no version
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    assert "frame-ancestors 'none'" in policy
    css = requests.get(stack["url"] + "/assets/app.css", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200
    assert "max-age=31536000" in css.headers["Cache-Control"]
    # errors carry the headers too
    missing = requests.get(stack["url"] + "/assets/nope.css", timeout=10)
    assert missing.status_code == 404 and missing.headers["X-Frame-Options"] == "DENY"


def test_json_routes_through_nginx_are_compressed(stack):
    response = requests.post(stack["url"] + "/api/forecast", json={"horizon": 30}, timeout=30)
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 30
    history = requests.get(
        stack["url"] + "/api/historical", headers={"Accept-Encoding": "gzip"}, timeout=30
    )
    assert history.status_code == 200 and history.headers["Content-Encoding"] == "gzip"


def test_a_too_large_upload_is_refused_by_nginx_and_nothing_is_stored(stack):
    db = Database(f"sqlite:///{stack['run'].parent / 'app.sqlite'}")
    before = latest_dataset_id(db)
    body = b"date,sales\n" + b"2024-01-01,1\n" * 120_000  # about 1.5 MB
    response = requests.post(
        stack["url"] + "/api/upload", files={"file": ("big.csv", body)}, timeout=30
    )
    assert response.status_code == 413
    assert "nginx" in response.text  # refused before the app read a byte
    assert latest_dataset_id(db) == before
    db.dispose()


def test_start_a_run_and_follow_its_log_over_the_websocket_through_nginx(stack):
    url = stack["url"]
    started = requests.post(
        url + "/api/runs", json={"models": ["linear_trend"], "horizon": 7}, timeout=30
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    messages = ws_messages(url.replace("http", "ws") + f"/ws/runs/{run_id}/logs", timeout=180)
    assert messages[-1]["type"] == "status" and messages[-1]["status"] == "succeeded", messages
    text = "".join(m["text"] for m in messages if m["type"] == "log")
    assert f"run {run_id} succeeded" in text
    assert requests.get(url + f"/api/runs/{run_id}", timeout=10).json()["status"] == "succeeded"
    assert requests.get(url + "/api/metrics", timeout=10).json()["run_id"] == run_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_sigterm_stops_gunicorn_nginx_and_the_dashboards(app_dir):
    with run_local(app_dir, "--dashboards") as running:
        ports = running["ports"]
        # the MLflow UI and the Optuna dashboard read the stores the app wrote
        deadline = time.monotonic() + 90
        while True:
            try:
                experiments = requests.get(
                    f"http://127.0.0.1:{ports['MLFLOW_PORT']}/api/2.0/mlflow/experiments/search",
                    params={"max_results": 10}, timeout=5,
                )  # fmt: skip
                if experiments.status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert time.monotonic() < deadline, running["log"].read_text()
            time.sleep(0.5)
        names = {e["name"] for e in experiments.json()["experiments"]}
        assert "sales-forecasting" in names, names
        studies = requests.get(
            f"http://127.0.0.1:{ports['OPTUNA_DASHBOARD_PORT']}/api/studies", timeout=10
        ).json()["study_summaries"]
        assert any(s["study_name"].startswith("run-1-") for s in studies), studies
        pids = {p.stem: int(p.read_text()) for p in running["run"].glob("*.pid")}
        assert set(pids) == {"gunicorn", "nginx", "mlflow", "optuna-dashboard"}
        running["script"].send_signal(signal.SIGTERM)
        assert running["script"].wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [name for name, pid in pids.items() if _alive(pid)]
    assert not list(running["run"].glob("*.pid"))
