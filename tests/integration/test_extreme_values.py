"""A cell beyond 1e15 or infinite is refused with its row and column, never a traceback."""

from __future__ import annotations

import io

import pytest

from tests.support.files import with_extreme_cell
from tests.support.servers import cli


@pytest.mark.parametrize("command", ["backtest", "forecast"])
def test_the_command_line_exits_2_with_the_message(tmp_path, command):
    path = tmp_path / "extreme.csv"
    path.write_bytes(with_extreme_cell("1e308"))
    result = cli(tmp_path / "data", command, "--csv", str(path), "--horizon", "3", "--quiet")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "error: Column 'sales' has '1e308' on data row 17" in result.stderr


def test_the_upload_api_answers_422_and_stores_nothing(empty_client):
    upload = {"file": (io.BytesIO(with_extreme_cell("1e308")), "extreme.csv")}
    response = empty_client.post("/api/upload", data=upload)
    assert response.status_code == 422
    assert "'1e308' on data row 17" in response.get_json()["detail"]
    assert empty_client.get("/api/series").get_json()["dataset_id"] is None
    assert empty_client.get("/api/eda?dataset_id=1").status_code == 404
