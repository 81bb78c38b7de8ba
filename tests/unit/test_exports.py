"""Exports are data, not formulas: text a spreadsheet would run is quoted, numbers are not."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from pipeline.exports import protect_formulas
from pipeline.terminal import write_forecast_csv

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]


def test_text_a_spreadsheet_would_run_is_quoted_and_numbers_stay_numbers():
    frame = pd.DataFrame(
        {"series": [*HOSTILE, "store=north", "plain"], "value": [-1.5, 2, 3, 4, -5, 6]}
    )
    out = protect_formulas(frame)
    assert out["series"].tolist() == ["'" + h for h in HOSTILE] + ["store=north", "plain"]
    assert out["value"].tolist() == frame["value"].tolist()
    protected, unprotected = io.BytesIO(), io.BytesIO()
    out.to_excel(protected, index=False)
    frame.to_excel(unprotected, index=False)
    # unprotected, Excel would hold a live formula; protected, it holds text
    assert openpyxl.load_workbook(unprotected).active["A2"].data_type == "f"
    cell = openpyxl.load_workbook(protected).active["A2"]
    assert cell.data_type == "s" and cell.value == "'" + HOSTILE[0]


def test_the_command_line_export_is_protected_too(tmp_path):
    frame = pd.DataFrame(
        {"unique_id": [HOSTILE[0]], "ds": [pd.Timestamp("2025-01-01")], "yhat": [-3.0]}
    )
    path = tmp_path / "forecast.csv"
    write_forecast_csv(frame, None, path)
    back = pd.read_csv(path)
    assert back.loc[0, "unique_id"] == "'" + HOSTILE[0]
    assert back.loc[0, "yhat"] == -3.0
