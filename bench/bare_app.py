"""The peer for bench/load.py: a bare Flask route returning a constant 30-point forecast.

Served by the same gunicorn settings behind the same nginx configuration, it is
what the stack costs with no work in the handler: the ceiling for our own routes.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, jsonify

server = Flask(__name__)
START = dt.date(2017, 8, 16)
PREDICTIONS = [
    {
        "date": (START + dt.timedelta(days=i)).isoformat(),
        "value": 84773.04349526916 + i,
        "lower": 74273.5081689291 + i,
        "upper": 95272.57882160923 + i,
    }
    for i in range(30)
]


@server.post("/api/forecast")
def forecast():
    return jsonify(predictions=PREDICTIONS, horizon=30, series="all series (total)", level=95)
