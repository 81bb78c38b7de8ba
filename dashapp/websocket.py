"""``/ws/runs/<id>/logs``: the run's log so far, then new lines as they come, then its end.

Messages are JSON: ``{"type": "log", "text": ...}`` for lines, one final
``{"type": "status", "status": ..., "error": ...}``, or ``{"type": "error", ...}``
for a run that does not exist, after which the socket closes.

Only same-origin pages may connect: a handshake whose ``Origin`` names another
host gets 403 before the upgrade, so another site open in the same browser
cannot read run logs through it.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from flask import Flask, jsonify, request
from flask_sock import Sock

from dashapp.state import app_state
from pipeline import runs

POLL_SECONDS = 0.25
TERMINAL = ("succeeded", "failed", "cancelled")

sock = Sock()


def same_origin() -> bool:
    """No Origin (not a browser) or one naming the host the request came to."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc.lower() == request.host.lower()


def init_websocket(server: Flask) -> None:
    sock.init_app(server)

    @server.before_request
    def refuse_cross_origin_sockets():
        if request.path.startswith("/ws/") and not same_origin():
            response = jsonify(error="Forbidden", detail="WebSocket from another origin refused.")
            response.status_code = 403
            return response
        return None


@sock.route("/ws/runs/<int:run_id>/logs")
def run_logs(ws, run_id: int) -> None:
    system = app_state().system
    run = runs.status(system, run_id)
    if run is None:
        ws.send(json.dumps({"type": "error", "error": f"There is no run {run_id}."}))
        ws.close(reason=1008, message="unknown run")
        return
    offset = 0
    last_status_check = 0.0
    while True:
        text, offset = runs.read_log(system, run_id, offset)
        if text:
            ws.send(json.dumps({"type": "log", "text": text}))
        now = time.monotonic()
        if now - last_status_check >= 1.0 or not text:
            last_status_check = now
            run = runs.status(system, run_id)
            if run["status"] in TERMINAL:
                text, offset = runs.read_log(system, run_id, offset)  # the last lines
                if text:
                    ws.send(json.dumps({"type": "log", "text": text}))
                ws.send(
                    json.dumps(
                        {
                            "type": "status",
                            "status": run["status"],
                            "error": run["error"],
                            "progress": run["progress"],
                        }
                    )
                )
                ws.close()
                return
        if not text:
            time.sleep(POLL_SECONDS)
