"""A cell beyond 1e15 or infinite is refused with its row and column, never a traceback."""

from __future__ import annotations

import io

import pytest

from forecasting.errors import DataError
from forecasting.limits import Limits
from forecasting.loading import load_csv
from tests.conftest import cli
from tests.planner_files import with_extreme_cell


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("1e308", "beyond the limit of ±1e+15"),
        ("-2e15", "beyond the limit"),
        ("inf", "not a finite"),
    ],
)
def test_an_absurd_target_names_its_row_and_column(value, says):
    with pytest.raises(DataError) as error:
        load_csv(with_extreme_cell(value, row=17))
    message = str(error.value)
    assert f"Column 'sales' has {value!r} on data row 17 (line 18 of the file)" in message
    assert says in message


def test_a_driver_is_checked_too_and_the_limit_is_inclusive():
    text = b"date,sales,price\n2024-01-01,5,1e15\n2024-01-02,6,-Infinity\n"
    with pytest.raises(DataError, match="Column 'price' has '-Infinity' on data row 2"):
        load_csv(text)
    assert load_csv(b"date,sales\n2024-01-01,1e15\n2024-01-02,6\n").frame["y"].iloc[0] == 1e15
    with pytest.raises(DataError, match="limit of ±1e\\+06"):
        load_csv(b"date,sales\n2024-01-01,2e6\n2024-01-02,6\n", limits=Limits(max_abs_value=1e6))


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
