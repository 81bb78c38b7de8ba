"""Dates are read with one day/month order for the whole column, decided from all of it."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from forecasting.data.dates import read_dates
from forecasting.errors import DataError
from tests.support.files import european_monthly
from tests.support.servers import cli


def test_the_command_line_reads_the_european_file_as_monthly(tmp_path):
    path = tmp_path / "kaese.csv"
    path.write_bytes(european_monthly())
    result = cli(
        tmp_path / "data", "backtest", "--csv", str(path), "--horizon", "3",
        "--models", "seasonal_naive,linear_trend", "--jobs", "1", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 series, 36 rows, monthly (MS), 2021-01-01 to 2023-12-01" in result.stdout
    assert "read day-first (dd.mm.yyyy)" in result.stdout


def test_the_upload_api_reads_the_european_file_as_monthly(empty_client):
    response = empty_client.post(
        "/api/upload", data={"file": (io.BytesIO(european_monthly()), "k.csv")}
    )
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["cleaning"]["freq"] == "MS" and report["cleaning"]["rows_out"] == 36
    assert report["detected"]["dates"]["order"] == "day-first"


def test_a_date_no_order_can_read_is_a_typo_named_with_its_row(empty_client):
    weeks = [f"{d:%d.%m.%Y}" for d in pd.date_range("2024-07-01", periods=12, freq="W-MON")]
    weeks[5] = "32.09.2024"  # the stranger's typo: day 32 with the day first
    with pytest.raises(DataError, match=r"'32.09.2024' \(data row 6\) is not a date"):
        read_dates(pd.Series(weeks))
    rows = "\n".join(f"{w},{i}" for i, w in enumerate(weeks))
    response = empty_client.post(
        "/api/upload", data={"file": (io.BytesIO(f"Datum,Menge\n{rows}\n".encode()), "t.csv")}
    )
    assert response.status_code == 422, response.get_json()
    assert "'32.09.2024'" in response.get_json()["detail"]
