"""Numbers as spreadsheets write them, and the magnitudes a sales figure can have.

One parser for every numeric column, so ``1.234,5``, ``"1,234.5"``, ``$1,200``
and ``TRUE``/``FALSE`` become numbers the same way. A value beyond
``Limits.max_abs_value`` (1e15 by default) or an infinity is refused with its
row and column: no sales figure, price or spend comes near it (float64 stops
counting units exactly at 9e15), so it is a typo, an overflow or a placeholder,
and letting it through ends in overflows deep inside a model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import DataError

_TRUE = {"true", "yes", "y", "t"}
_FALSE = {"false", "no", "n", "f"}
BOOL_WORDS = _TRUE | _FALSE


def parse_numbers(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Parse text to floats: thousands separators, decimal comma, TRUE/FALSE, currency signs."""
    text = values.astype("string").str.strip()
    lower = text.str.lower()
    is_bool = lower.isin(BOOL_WORDS)
    cleaned = text.str.replace(r"[\s$€£%']", "", regex=True)
    if decimal == ",":
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(cleaned, errors="coerce").astype(float)
    numbers[is_bool.fillna(False).to_numpy()] = (
        lower[is_bool.fillna(False)].isin(_TRUE).astype(float)
    )
    return numbers


def refuse_extreme(numbers: pd.Series, raw: pd.Series, column: str, limit: float) -> None:
    """Raise ``DataError`` naming the first infinite or too-large value (row and column).

    ``raw`` is the column as written, so the message quotes the cell itself.
    """
    values = numbers.to_numpy(dtype=float)
    infinite = np.isinf(values)
    huge = np.abs(np.where(infinite, 0.0, np.nan_to_num(values))) > limit
    bad = infinite | huge
    if not bad.any():
        return
    at = int(np.flatnonzero(bad)[0])
    row = int(raw.index[at])  # the file's row: a position, or a chunk's label
    what = "is not a finite number" if infinite[at] else f"is beyond the limit of ±{limit:.0e}"
    others = int(bad.sum()) - 1
    more = f" ({others} more value(s) like it)" if others else ""
    raise DataError(
        f"Column {column!r} has {raw.iloc[at]!r} on data row {row + 1} (line {row + 2} of the "
        f"file), which {what}{more}. A sales figure or driver this large is a typo, an "
        "overflow or a placeholder: correct the cell or leave it blank."
    )
