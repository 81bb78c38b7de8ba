"""Files for spreadsheets: text that a spreadsheet would run as a formula is neutralised.

Series ids and labels come from uploaded data, so a cell like ``=HYPERLINK(...)``
could reach an analyst's spreadsheet through a CSV or Excel export; every export
(the Forecast page's downloads, ``python -m pipeline forecast --out``) goes through here.
"""

from __future__ import annotations

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
