"""A wide table (one column per series under a date column) is read as that many series."""

from __future__ import annotations

import io

from tests.support.files import wide_daily
from tests.support.servers import cli


def test_the_command_line_and_the_upload_api_give_three_series(tmp_path, empty_client):
    path = tmp_path / "wide.csv"
    path.write_bytes(wide_daily())
    result = cli(
        tmp_path / "data", "forecast", "--csv", str(path), "--horizon", "7",
        "--models", "seasonal_naive,linear_trend", "--out", str(tmp_path / "f.csv"), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 series, 360 rows, daily")
    assert "wide table" in result.stdout
    forecast = (tmp_path / "f.csv").read_text().splitlines()
    assert forecast[0].startswith("series,ds,yhat")
    assert {line.split(",")[0] for line in forecast[1:]} == {"north", "south", "east"}
    response = empty_client.post("/api/upload", data={"file": (io.BytesIO(wide_daily()), "w.csv")})
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["cleaning"]["series"] == 3
    assert report["detected"]["mapping"]["wide"] == ["north", "south", "east"]
