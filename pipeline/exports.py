"""Files for spreadsheets: text that a spreadsheet would run as a formula is neutralised.

Series ids and labels come from uploaded data, so a cell like ``=HYPERLINK(...)``
could reach an analyst's spreadsheet through a CSV or Excel export; every export
(the Forecast page's downloads, ``python -m pipeline forecast --out``) goes through here.
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def protect_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells starting with = + - @ with a quote (OWASP CSV injection advice)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
            )
    return out


def excel_bytes(frame: pd.DataFrame, sheet: str = "forecast") -> bytes:
    """An .xlsx of ``frame`` with formulas neutralised; datetime columns become Excel dates.

    Dates land as date cells shown yyyy-mm-dd (not text), so a spreadsheet sorts,
    filters and charts them as dates.
    """
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        protect_formulas(frame).to_excel(writer, index=False, sheet_name=sheet)
        columns = list(frame.columns)
        for col in frame.select_dtypes("datetime").columns:
            for (cell,) in writer.sheets[sheet].iter_rows(
                min_row=2, min_col=columns.index(col) + 1, max_col=columns.index(col) + 1
            ):
                cell.number_format = "yyyy-mm-dd"
    return buffer.getvalue()
