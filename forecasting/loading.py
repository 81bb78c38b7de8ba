"""Read any reasonable sales CSV into the long frame ``unique_id, ds, y, <drivers>``.

The file is read as text first (encoding, delimiter and decimal mark detected),
then each column is parsed with one robust number parser, so ``1.234,5``,
``"1,234.5"``, ``TRUE``/``FALSE`` all become numbers the same way.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer
import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.limits import Limits

DATE_HINTS = ("ds", "date", "day", "week", "month", "period", "time", "timestamp", "fecha")
TARGET_HINTS = (
    "y",
    "sales",
    "weekly_sales",
    "daily_sales",
    "monthly_sales",
    "transactions",
    "units",
    "quantity",
    "qty",
    "demand",
    "revenue",
    "amount",
    "volume",
    "orders",
    "target",
)
ID_HINTS = (
    "unique_id",
    "id",
    "store",
    "item",
    "product",
    "sku",
    "category",
    "dept",
    "department",
    "family",
    "region",
    "shop",
    "brand",
    "channel",
    "location",
    "country",
    "city",
    "series",
    "part",
    "article",
    "material",
    "code",
)
_TRUE = {"true", "yes", "y", "t"}
_FALSE = {"false", "no", "n", "f"}
_BOOL_WORDS = _TRUE | _FALSE


@dataclass
class ColumnMapping:
    """Which input columns became the date, the target, the series key and the drivers.

    ``attributes`` are text columns fixed within each series (a product's category,
    a store's region): kept for grouping and as series-level features.
    """

    date: str
    target: str
    ids: list[str]
    drivers: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "date": self.date,
            "target": self.target,
            "ids": self.ids,
            "drivers": self.drivers,
            "attributes": self.attributes,
        }


@dataclass
class LoadedData:
    """The long frame plus what the loader detected, for the validation report."""

    frame: pd.DataFrame
    mapping: ColumnMapping
    encoding: str
    delimiter: str
    decimal: str
    rows_read: int

    def describe(self) -> dict:
        return {
            "mapping": self.mapping.to_dict(),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
            "rows_read": self.rows_read,
        }


def load_csv(
    source: str | Path | bytes,
    *,
    date: str | None = None,
    target: str | None = None,
    ids: list[str] | None = None,
    limits: Limits | None = None,
) -> LoadedData:
    """Load a sales CSV (path or bytes) into the long frame, detecting what is not given."""
    limits = limits or Limits()
    raw = _read_bytes(source, limits)
    text, encoding = _decode(raw)
    delimiter = _sniff_delimiter(text)
    table = _read_table(text, delimiter, limits)
    decimal = _decimal_mark(table, delimiter)
    mapping = detect_columns(table, date=date, target=target, ids=ids, decimal=decimal)
    frame = _to_long(table, mapping, decimal)
    return LoadedData(frame, mapping, encoding, delimiter, decimal, rows_read=len(table))


def _read_bytes(source: str | Path | bytes, limits: Limits) -> bytes:
    if isinstance(source, bytes | bytearray):
        raw = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"File not found: {path}. Check the path and try again.")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise DataError(_too_big(size, limits))
        raw = path.read_bytes()
    if len(raw) > limits.max_bytes:
        raise DataError(_too_big(len(raw), limits))
    if not raw.strip():
        raise DataError("The file is empty. Upload a CSV with a header row and data rows.")
    return raw


def _megabytes(size: int) -> str:
    if size < 1e6:
        return f"{size / 1e3:.1f} kB"
    return f"{size / 1e6:.1f} MB"


def _too_big(size: int, limits: Limits) -> str:
    return (
        f"The file is {_megabytes(size)}, over the limit of {_megabytes(limits.max_bytes)}. "
        "Upload fewer rows or aggregate to a coarser period."
    )


def _decode(raw: bytes) -> tuple[str, str]:
    head = raw[:65536]
    if b"\x00" in head or head.startswith(
        (b"PK\x03\x04", b"\x1f\x8b", b"%PDF", b"\xd0\xcf\x11\xe0")
    ):
        raise DataError(
            "This is not a CSV text file (it looks binary, e.g. an Excel workbook, a zip or a "
            "PDF). Save the sheet as CSV (comma- or semicolon-separated) and upload that."
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(head).best()
    encoding = best.encoding if best is not None else "latin-1"
    try:
        return raw.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        return raw.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] > 0 else ","


def _read_table(text: str, delimiter: str, limits: Limits) -> pd.DataFrame:
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            nrows=limits.max_rows + 1,
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError("The file is empty. Upload a CSV with a header row and data rows.") from exc
    except pd.errors.ParserError as exc:
        raise DataError(
            f"The file could not be read as CSV ({str(exc).strip()}). Check that every row has "
            "the same number of fields and that quotes are closed."
        ) from exc
    table.columns = [str(c).strip() for c in table.columns]
    if len(table.columns) > limits.max_columns:
        raise DataError(
            f"The file has {len(table.columns)} columns, over the limit of {limits.max_columns}. "
            "Keep only the date, target, id and driver columns."
        )
    if len(table) > limits.max_rows:
        raise DataError(
            f"The file has more than {limits.max_rows:,} rows, the configured limit. "
            "Upload fewer series or aggregate to a coarser period."
        )
    if table.empty:
        raise DataError(
            "The file has a header row but no data rows. Add at least two periods of sales."
        )
    if len(table.columns) < 2:
        raise DataError(
            f"Only one column was found ({table.columns[0]!r}). A sales CSV needs at least a "
            "date column and a numeric sales column, separated by commas or semicolons."
        )
    return table.replace({"": None})


def _decimal_mark(table: pd.DataFrame, delimiter: str) -> str:
    """A comma decimal mark is only possible when the delimiter is not a comma."""
    if delimiter == ",":
        return "."
    sample = table.head(2000)
    comma = point = 0
    for col in sample.columns:
        values = sample[col].dropna().astype(str)
        comma += values.str.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+|-?\d+,\d+").sum()
        point += values.str.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d+|-?\d+\.\d+").sum()
    return "," if comma > point else "."


def parse_numbers(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Parse text to floats: thousands separators, decimal comma, TRUE/FALSE, currency signs."""
    text = values.astype("string").str.strip()
    lower = text.str.lower()
    is_bool = lower.isin(_BOOL_WORDS)
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


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse dates, trying ISO first, then day-first and month-first forms."""
    text = values.astype("string").str.strip()
    best = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in ("ISO8601", None, "dayfirst"):
        try:
            if fmt == "dayfirst":
                parsed = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
            elif fmt is None:
                parsed = pd.to_datetime(text, errors="coerce", format="mixed")
            else:
                parsed = pd.to_datetime(text, errors="coerce", format=fmt)
        except (ValueError, TypeError):
            continue
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        parsed = parsed.astype("datetime64[ns]")
        if parsed.notna().sum() > best.notna().sum():
            best = parsed
        if best.notna().all():
            break
    return best.dt.normalize()


def _numeric_share(values: pd.Series, decimal: str) -> float:
    present = values.dropna()
    if present.empty:
        return 0.0
    sample = present.head(2000)
    return float(parse_numbers(sample, decimal).notna().mean())


def _date_share(values: pd.Series) -> float:
    present = values.dropna().head(500)
    if present.empty or present.astype(str).str.fullmatch(r"-?\d+([.,]\d+)?").mean() > 0.5:
        return 0.0
    return float(parse_dates(present).notna().mean())


def _hint_rank(name: str, hints: tuple[str, ...]) -> int:
    """0 for an exact hint, 1 for a hint inside the name, 2 for none."""
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if key in hints:
        return 0
    parts = set(key.split("_"))
    return 1 if parts & set(hints) or any(h in key for h in hints if len(h) > 3) else 2


def detect_columns(
    table: pd.DataFrame,
    *,
    date: str | None = None,
    target: str | None = None,
    ids: list[str] | None = None,
    decimal: str = ".",
) -> ColumnMapping:
    """Find the date, target and id columns; the remaining numeric columns are drivers."""
    columns = list(table.columns)
    for given in [date, target, *(ids or [])]:
        if given is not None and given not in columns:
            raise DataError(
                f"Column {given!r} is not in the file. Its columns are: {', '.join(columns)}."
            )
    date = date or _detect_date(table)
    numeric = {c: _numeric_share(table[c], decimal) for c in columns if c != date}
    target = target or _detect_target(table, date, numeric, exclude=set(ids or []))
    if numeric.get(target, 0.0) == 0.0:
        raise DataError(
            f"The target column {target!r} holds no numbers (first values: "
            f"{table[target].dropna().head(3).tolist()}). Choose the column with the sales "
            "quantity, e.g. --target sales."
        )
    if ids is None:
        ids = _detect_ids(table, date, target, numeric)
    drivers = [c for c in columns if c not in (date, target, *ids) and numeric.get(c, 0.0) >= 0.95]
    attributes = _detect_attributes(table, [date, target, *ids, *drivers], list(ids))
    return ColumnMapping(
        date=date, target=target, ids=list(ids), drivers=drivers, attributes=attributes
    )


def _detect_attributes(table: pd.DataFrame, taken: list[str], ids: list[str]) -> list[str]:
    """Text columns with one value per series (and more than one value overall)."""
    if not ids:
        return []
    out = []
    for col in table.columns:
        if col in taken or table[col].nunique() < 2:
            continue
        per_series = table.groupby(ids, sort=False)[col].nunique(dropna=False)
        if (per_series <= 1).all():
            out.append(col)
    return out


def _detect_date(table: pd.DataFrame) -> str:
    """A date-named column that mostly parses, else any column that almost fully parses."""
    ranked = sorted(table.columns, key=lambda c: _hint_rank(c, DATE_HINTS))
    shares = {}
    for col in ranked:
        shares[col] = _date_share(table[col])
        if shares[col] >= 0.9 or (_hint_rank(col, DATE_HINTS) < 2 and shares[col] >= 0.5):
            return col
    raise DataError(
        "No usable date column was found: no column parses as dates "
        f"(columns: {', '.join(table.columns)}). Add a column of dates such as 2024-01-31, "
        "or name it with --date."
    )


def _detect_target(
    table: pd.DataFrame, date: str, numeric: dict[str, float], exclude: set[str]
) -> str:
    candidates = [c for c in table.columns if c != date and c not in exclude]
    named = [
        c for c in candidates if _hint_rank(c, TARGET_HINTS) < 2 and _hint_rank(c, ID_HINTS) == 2
    ]
    named.sort(key=lambda c: _hint_rank(c, TARGET_HINTS))
    for col in named:
        if numeric.get(col, 0.0) >= 0.5:
            return col
    if named:
        col = named[0]
        if table[col].isna().all():
            raise DataError(f"The target column {col!r} has no values. Fill in the sales figures.")
        raise DataError(
            f"The target column {col!r} is not numeric: "
            f"{table[col].dropna().head(3).tolist()} are not numbers. Fix those values or "
            "name another column with --target."
        )
    floats = [c for c in candidates if numeric.get(c, 0.0) >= 0.95 and _hint_rank(c, ID_HINTS) == 2]
    if floats:
        return max(floats, key=lambda c: table[c].nunique())
    raise DataError(
        "No numeric target column was found "
        f"(columns: {', '.join(table.columns)}). Add a column of sales quantities or name it "
        "with --target."
    )


def _detect_ids(
    table: pd.DataFrame, date: str, target: str, numeric: dict[str, float]
) -> list[str]:
    """The fewest id-like columns that make (ids, date) unique, hinted names first."""
    rows = len(table)
    candidates = []
    for col in table.columns:
        if col in (date, target):
            continue
        values = table[col].dropna().astype(str)
        lower = values.str.lower()
        if values.empty or lower.isin(_BOOL_WORDS).all():
            continue
        distinct = values.nunique()
        hinted = _hint_rank(col, ID_HINTS) < 2
        is_text = numeric.get(col, 0.0) < 0.95
        integer = not is_text and values.str.fullmatch(r"-?\d+").all()
        if distinct > max(1, rows // 2) or not (
            hinted or (is_text and distinct <= 1000) or integer
        ):
            continue
        if not hinted and integer:
            continue
        candidates.append((0 if hinted else 1, distinct, col))
    candidates.sort()
    dates = table[date]
    chosen: list[str] = []
    duplicated = dates.duplicated().mean()
    for _, _distinct, col in candidates:
        if duplicated <= 0.001:
            break
        trial = table[[*chosen, col]].assign(_d=dates)
        share = trial.duplicated().mean()
        if share < duplicated:
            chosen.append(col)
            duplicated = share
    for col in list(chosen):
        rest = [c for c in chosen if c != col]
        if rest and table[rest].assign(_d=dates).duplicated().mean() <= duplicated:
            chosen.remove(col)
    chosen.sort(key=list(table.columns).index)
    constant_hinted = [
        col
        for rank, distinct, col in candidates
        if rank == 0 and distinct == 1 and col not in chosen
    ]
    return chosen + constant_hinted


def _to_long(table: pd.DataFrame, mapping: ColumnMapping, decimal: str) -> pd.DataFrame:
    ds = parse_dates(table[mapping.date])
    bad = ds.isna() & table[mapping.date].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"Column {mapping.date!r} has {int(bad.sum())} value(s) that are not dates, e.g. "
            f"{table[mapping.date].iloc[row]!r} on data row {row + 1}. Use a format such as "
            "2024-01-31."
        )
    if ds.isna().all():
        raise DataError(f"Column {mapping.date!r} is empty. Fill in a date for every row.")
    y = parse_numbers(table[mapping.target], decimal)
    text_y = y.isna() & table[mapping.target].notna()
    if text_y.mean() > 0.05:
        row = int(np.flatnonzero(text_y.to_numpy())[0])
        raise DataError(
            f"The target column {mapping.target!r} is not numeric: {int(text_y.sum())} value(s) "
            f"such as {table[mapping.target].iloc[row]!r} on data row {row + 1} are not numbers. "
            "Fix them or choose another column with --target."
        )
    if y.isna().all():
        raise DataError(
            f"The target column {mapping.target!r} has no values. Fill in the sales figures."
        )
    if mapping.ids:
        parts = [col + "=" + table[col].fillna("").astype(str).str.strip() for col in mapping.ids]
        key = parts[0]
        for part in parts[1:]:
            key = key + "/" + part
    else:
        key = pd.Series("total", index=table.index)
    frame = pd.DataFrame({"unique_id": key.astype(str), "ds": ds, "y": y})
    for col in [*mapping.ids, *mapping.attributes]:
        frame[col] = table[col].astype("string").str.strip()
    for col in mapping.drivers:
        frame[col] = parse_numbers(table[col], decimal)
    return frame.loc[ds.notna()].reset_index(drop=True)
