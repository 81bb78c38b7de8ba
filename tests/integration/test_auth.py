"""Who may change things: the admin token on the JSON API and in the dashboard, the
production secret key, and the session cookie."""

from __future__ import annotations

import io

import pytest

from dashapp import DEV_SECRET, create_app
from storage import run_reads, run_rows
from storage.datasets import latest_dataset_id
from tests.support.frames import SAMPLES

TOKEN = "correct-horse-battery-staple"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def guarded(app_dir):
    app = create_app({"DATA_DIR": str(app_dir), "ADMIN_TOKEN": TOKEN, "TESTING": True})
    state = app.server.extensions["salesforecast"]
    yield app.server.test_client(), state.system.db, app
    state.system.db.dispose()


def _sign_in_callback(token: str) -> dict:
    return {
        "output": "retraining-access.children",
        "outputs": {"id": "retraining-access", "property": "children"},
        "inputs": [{"id": "retraining-sign-in", "property": "n_clicks", "value": 1}],
        "state": [{"id": "retraining-token", "property": "value", "value": token}],
        "changedPropIds": ["retraining-sign-in.n_clicks"],
    }


def _cancel_callback(app) -> dict:
    app.server.test_client().get("/")  # Dash registers callbacks at the first request
    return {
        "output": "retraining-cancel-message.children",
        "outputs": {"id": "retraining-cancel-message", "property": "children"},
        "inputs": [{"id": "retraining-cancel", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["retraining-cancel.n_clicks"],
    }


def _start_job_callback() -> dict:
    """The background job that submits a run: it cannot see the session, so it is guarded."""
    return {
        "output": "retraining-submit-message.children",
        "outputs": {"id": "retraining-submit-message", "property": "children"},
        "inputs": [
            {"id": "retraining-start-request", "property": "data", "value": {"options": {}}}
        ],
        "changedPropIds": ["retraining-start-request.data"],
    }


def _cancel_refused(response) -> bool:
    return response.status_code == 200 and "Sign in to cancel runs" in response.get_data(True)


def test_without_the_token_changes_get_401_and_nothing_happens(guarded):
    client, db, _ = guarded
    dataset_before, runs_before = latest_dataset_id(db), len(run_reads.list_runs(db))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        started = client.post("/api/runs", json={"models": ["linear_trend"]}, headers=headers)
        assert started.status_code == 401, started.get_json()
        assert started.headers["WWW-Authenticate"].startswith("Bearer")
        assert "admin token" in started.get_json()["detail"]
        with open(SAMPLES / "ecommerce_sales_data.csv", "rb") as handle:
            upload = client.post(
                "/api/upload", data={"file": (handle, "sales.csv")}, headers=headers
            )
        assert upload.status_code == 401
        assert client.post("/api/runs/1/cancel", headers=headers).status_code == 401
        assert client.post("/api/runs/1/promote", headers=headers).status_code == 401
        appended = client.post(
            "/api/upload", data={"file": (io.BytesIO(b"x"), "new.csv"), "mode": "append"},
            headers=headers,
        )  # fmt: skip
        assert appended.status_code == 401
    # checked before the body: a bad body without the token is still 401, not 422
    assert client.post("/api/runs", json={"models": ["nope"]}).status_code == 401
    assert latest_dataset_id(db) == dataset_before
    assert len(run_reads.list_runs(db)) == runs_before
    assert not run_rows.cancel_requested(db, 1)


def test_reading_stays_open_and_the_bearer_token_allows_changes(guarded):
    client, _, _ = guarded
    assert client.post("/api/forecast", json={"horizon": 7}).status_code == 200
    assert client.get("/api/historical").status_code == 200
    assert client.get("/api/runs").status_code == 200
    cancel = client.post("/api/runs/1/cancel", headers=BEARER)
    assert cancel.status_code == 409, cancel.get_json()  # past the guard: run 1 has ended
    promote = client.post("/api/runs/1/promote", headers=BEARER)
    assert promote.status_code == 200 and promote.get_json()["production"]  # it serves already
    bad = client.post("/api/runs", json={"models": ["nope"]}, headers=BEARER)
    assert bad.status_code == 422  # past the guard, the body is judged


def test_the_dashboard_needs_a_signed_in_session_to_change_things(guarded):
    client, db, app = guarded
    refused = client.post("/_dash-update-component", json=_cancel_callback(app))
    assert _cancel_refused(refused), refused.get_data(True)
    assert client.post("/_dash-update-component", json=_start_job_callback()).status_code == 401
    wrong = client.post("/_dash-update-component", json=_sign_in_callback("guess"))
    assert wrong.status_code == 200 and "That is not the admin token" in wrong.get_data(True)
    assert _cancel_refused(client.post("/_dash-update-component", json=_cancel_callback(app)))
    assert not run_rows.cancel_requested(db, 1)
    signed = client.post("/_dash-update-component", json=_sign_in_callback(TOKEN))
    assert "Signed in" in signed.get_data(True)
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    allowed = client.post("/_dash-update-component", json=_cancel_callback(app))
    assert allowed.status_code == 200 and "No run is in progress" in allowed.get_data(True)


def test_changing_the_token_signs_sessions_out(app_dir):
    first = create_app({"DATA_DIR": str(app_dir), "ADMIN_TOKEN": TOKEN, "TESTING": True})
    client = first.server.test_client()
    client.post("/_dash-update-component", json=_sign_in_callback(TOKEN))
    assert client.post("/_dash-update-component", json=_cancel_callback(first)).status_code == 200
    second = create_app({"DATA_DIR": str(app_dir), "ADMIN_TOKEN": "a-new-token", "TESTING": True})
    cookie = client.get_cookie("session")
    other = second.server.test_client()
    other.set_cookie("session", cookie.value)
    assert _cancel_refused(other.post("/_dash-update-component", json=_cancel_callback(second)))


def test_without_a_token_changes_are_open(app_dir):
    app = create_app({"DATA_DIR": str(app_dir), "TESTING": True})
    client = app.server.test_client()
    assert client.post("/api/runs/1/cancel").status_code == 409  # open, and run 1 has ended
    assert client.post("/_dash-update-component", json=_cancel_callback(app)).status_code == 200


def test_production_refuses_to_start_without_a_secret_key(app_dir, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATA_DIR": str(app_dir), "APP_ENV": "production"})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATA_DIR": str(app_dir), "APP_ENV": "production", "SECRET_KEY": DEV_SECRET})
    app = create_app({"DATA_DIR": str(app_dir), "APP_ENV": "production", "SECRET_KEY": "x" * 64})
    assert app.server.secret_key == "x" * 64
