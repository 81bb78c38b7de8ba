"""The run-log WebSocket against a real gunicorn (gthread) with a real client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import websocket

from storage import run_rows
from storage.database import Database
from tests.support.frames import ROOT
from tests.support.servers import ws_messages


def test_a_finished_run_sends_its_log_then_its_status_then_closes(live_server):
    messages = ws_messages(live_server.replace("http", "ws") + "/ws/runs/1/logs")
    text = "".join(m["text"] for m in messages if m["type"] == "log")
    assert "run 1 (run) started" in text and "run 1 succeeded" in text
    assert messages[-1] == {"type": "status", "status": "succeeded", "error": None, "progress": 1.0}


def test_an_unknown_run_gets_an_error_and_a_close(live_server):
    started = time.monotonic()
    messages = ws_messages(live_server.replace("http", "ws") + "/ws/runs/999/logs", timeout=10)
    assert messages == [{"type": "error", "error": "There is no run 999."}]
    assert time.monotonic() - started < 5


def test_a_running_run_is_tailed_live_until_it_ends(live_server, app_dir):
    runner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "train",
            "--models",
            "linear_trend",
            "--trials",
            "3",
            "--horizon",
            "14",
            "--jobs",
            "1",
            "--quiet",
            "--no-tracking",
        ],
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(app_dir)},
    )
    try:
        db = Database(f"sqlite:///{app_dir / 'app.sqlite'}")
        deadline = time.monotonic() + 60
        while run_rows.active_run_id(db) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        db.dispose()
        received = []
        ws = websocket.create_connection(
            live_server.replace("http", "ws") + "/ws/runs/2/logs", timeout=120
        )
        try:
            while True:
                frame = ws.recv()
                if not frame:
                    break
                received.append((time.monotonic(), json.loads(frame)))
        except websocket.WebSocketConnectionClosedException:
            pass
        ws.close()
    finally:
        runner.wait(timeout=300)
    logs = [m for _, m in received if m["type"] == "log"]
    assert len(logs) >= 3, "lines arrived in several messages while the run went on"
    assert received[-1][1]["type"] == "status" and received[-1][1]["status"] == "succeeded"
    assert received[-1][0] - received[0][0] > 1.0
    assert "step train started" in "".join(m["text"] for m in logs)


def test_a_socket_from_another_origin_is_refused_before_the_upgrade(live_server):
    url = live_server.replace("http", "ws") + "/ws/runs/1/logs"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=10, origin="http://evil.example")
    assert refused.value.status_code == 403
    # the page's own origin (websocket-client sends the URL's) is let in
    assert ws_messages(url)[-1]["type"] == "status"
