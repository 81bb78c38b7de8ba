"""Read any reasonable sales CSV into the long frame ``unique_id, ds, y, <drivers>``.

The file is read as text first (encoding, delimiter and decimal mark detected),
then the columns are recognised (``forecasting.data.columns``, wide tables in
``forecasting.data.wide``), the dates read with one day/month order for the whole
column (``forecasting.data.dates``) and every numeric column parsed with one number
parser that refuses impossible magnitudes (``forecasting.data.numbers``).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

import charset_normalizer
import numpy as np
import pandas as pd

from forecasting.data.columns import detect_columns
from forecasting.data.dates import DateReading, parse_dates, read_dates
from forecasting.data.limits import Limits
from forecasting.data.mapping import ColumnMapping
from forecasting.data.numbers import parse_numbers, refuse_extreme
from forecasting.errors import DataError

__all__ = ["ColumnMapping", "LoadedData", "load_csv", "parse_dates", "parse_numbers"]


@dataclass
class LoadedData:
    """The long frame plus what the loader detected, for the validation report."""

    frame: pd.DataFrame
    mapping: ColumnMapping
    encoding: str
    delimiter: str
    decimal: str
    rows_read: int
    dates: DateReading
    #: a sentence naming sales cells that are not numbers and were read as blank (or None)
    unreadable: str | None = None
    #: how many sales cells those are (the one count the log, the page and the API give)
    unreadable_cells: int = 0

    def describe(self) -> dict:
        return {
            "mapping": self.mapping.to_dict(),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
            "rows_read": self.rows_read,
            "dates": self.dates.to_dict(),
            "unreadable_sales_cells": self.unreadable_cells,
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
    table, written = read_written(_read_bytes(source, limits), limits, date, target, ids)
    frame, dates, unreadable = to_long(
        table, written.mapping, written.decimal, limits.max_abs_value
    )
    return LoadedData(
        frame, written.mapping, written.encoding, written.delimiter, written.decimal,
        len(table), dates, unreadable.sentence() if unreadable else None,
        unreadable.cells if unreadable else 0,
    )  # fmt: skip


@dataclass(frozen=True)
class Written:
    """How a file is written and what its columns are."""

    encoding: str
    delimiter: str
    decimal: str
    mapping: ColumnMapping


def read_written(
    raw: bytes,
    limits: Limits,
    date: str | None = None,
    target: str | None = None,
    ids: list[str] | None = None,
) -> tuple[pd.DataFrame, Written]:
    """The text cells of ``raw`` and how they are written (encoding, delimiter, decimal
    mark, columns): of a whole file, or of the head of one read in chunks."""
    text, encoding = _decode(raw)
    delimiter = _sniff_delimiter(text)
    table = _read_table(text, delimiter, limits)
    decimal = _decimal_mark(table, delimiter)
    renamed = reserved_renames(list(table.columns))
    if renamed:
        table = table.rename(columns=renamed)
        date, target = renamed.get(date, date), renamed.get(target, target)
        ids = None if ids is None else [renamed.get(col, col) for col in ids]
    mapping = detect_columns(table, date=date, target=target, ids=ids, decimal=decimal)
    mapping = replace(mapping, renamed=renamed)
    return table, Written(encoding, delimiter, decimal, mapping)


@dataclass(frozen=True)
class Unreadable:
    """Sales cells written but not numbers (``12O`` for ``120``), read as blank: a blank
    inside a series is a missing period, so they are counted and the first one named."""

    cells: int
    example: str
    column: str
    #: the example's 0-based data row
    row: int

    def __add__(self, other: Unreadable) -> Unreadable:
        """Both counts, this one's example (the first in the file)."""
        return replace(self, cells=self.cells + other.cells)

    def sentence(self) -> str:
        return (
            f"{self.cells} sales value(s) are not numbers and were read as blank, "
            f"e.g. {self.example!r} in {self.column!r} on data row {self.row + 1} "
            f"(line {self.row + 2} of the file): correct them if they were sales"
        )


def _unreadable_sales(table: pd.DataFrame, column: str, y: pd.Series) -> Unreadable | None:
    """The sales cells of ``column`` that are written but did not parse into ``y``."""
    text_y = y.isna() & table[column].notna()
    if not text_y.any():
        return None
    row = _data_row(table, text_y)
    return Unreadable(int(text_y.sum()), str(table[column].loc[row]).strip(), column, row)


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
    western = _western_european(raw)
    if western is not None:
        return western
    best = charset_normalizer.from_bytes(head).best()
    encoding = best.encoding if best is not None else "latin-1"
    try:
        return raw.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        return raw.decode("latin-1"), "latin-1"


def _western_european(raw: bytes) -> tuple[str, str] | None:
    """Latin-1 / Windows-1252 text, the usual non-UTF-8 export of a European spreadsheet.

    Checked before charset detection, which on a short file (``Käse`` in a few
    rows) can guess an East Asian encoding. Accepted when accented letters stand
    alone between ASCII characters, as in words; double-byte scripts come in runs.
    """
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    runs = re.findall(r"[^\x00-\x7f]+", text)
    if not runs:
        return None
    in_long_runs = sum(len(r) for r in runs if len(r) >= 3)
    if in_long_runs > 0.1 * sum(len(r) for r in runs):
        return None
    return text, "latin-1" if not re.search(rb"[\x80-\x9f]", raw) else "cp1252"


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] > 0 else ","


#: the long frame's own column names that a file may also use for one of its columns
#: (statsforecast's format is ``unique_id, ds, y``): its ``unique_id`` column is read under
#: the first of these names it does not have, as a series id, since the frame's
#: ``unique_id`` is the key built from every id column
RESERVED = {"unique_id": ("series", "series_id", "series_key")}


def _longer_row(text: str, delimiter: str) -> str | None:
    """Which line has a value beyond the header's fields, in words a planner can act on
    (None where the extra fields are empty: a delimiter ending every data row)."""
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = len(next(rows, []))
    for line, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row[header:]):
            return (
                f"Line {line} has {len(row)} fields where the header has {header}: a "
                f"{delimiter!r} inside a value, or a stray one? Quote the value or remove the "
                "extra field; nothing was read."
            )
    return None


def reserved_renames(columns: list[str]) -> dict[str, str]:
    """The file's columns with a reserved name, to the names they are read as."""
    out = {}
    for name in columns:
        free = [c for c in RESERVED.get(name, ()) if c not in columns]
        if free:
            out[name] = free[0]
    return out


def _read_table(text: str, delimiter: str, limits: Limits) -> pd.DataFrame:
    try:
        with warnings.catch_warnings(record=True) as caught:
            # a first row with more fields than the header: pandas dropped what did not
            # fit, with a warning only (a value lost without a word)
            warnings.simplefilter("always", pd.errors.ParserWarning)
            table = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                nrows=limits.max_rows + 1,
                # a row with one field more than the header made pandas take the first
                # column for the index (a fuzzed file: a date in it read as the row's label)
                index_col=False,
            )
    except pd.errors.EmptyDataError as exc:
        raise DataError("The file is empty. Upload a CSV with a header row and data rows.") from exc
    except pd.errors.ParserError as exc:
        raise DataError(
            f"The file could not be read as CSV ({str(exc).strip()}). Check that every row has "
            "the same number of fields and that quotes are closed."
        ) from exc
    lost = any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)
    if lost and (longer := _longer_row(text, delimiter)):
        raise DataError(longer)
    table.columns = [str(c).strip() for c in table.columns]
    if len(table.columns) > limits.max_columns:
        raise DataError(
            f"The file has {len(table.columns)} columns, over the limit of {limits.max_columns}. "
            "Keep only the date, target, id and driver columns."
        )
    if len(table) > limits.max_rows:
        raise DataError(
            f"The file has more than {limits.max_rows:,} rows, the configured limit "
            "(MAX_ROWS) of a file read whole. Upload fewer series or aggregate to a coarser "
            "period, or run it from the command line (python -m pipeline run --csv FILE): "
            "a file of more rows than its --reading-rows (2,000,000 unless set) is read a "
            "partition of series at a time, without this limit."
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


def _data_row(table: pd.DataFrame, mask: pd.Series) -> int:
    """The 0-based data row of the first True of ``mask``: the table's own label, which is
    the position in a whole file and the file's row in a chunk of it."""
    return int(table.index[np.flatnonzero(mask.to_numpy())[0]])


def to_long(
    table: pd.DataFrame,
    mapping: ColumnMapping,
    decimal: str,
    limit: float,
    dates: tuple[pd.Series, DateReading] | None = None,
) -> tuple[pd.DataFrame, DateReading, Unreadable | None]:
    """The long frame of a table of text cells. ``dates``: the reading of the date column
    decided beforehand (its distinct values, stripped, to their dates), as for the chunks
    of a file too large to read at once (``forecasting.data.catalogue``)."""
    if mapping.wide:
        return _wide_to_long(table, mapping, decimal, limit)
    key = series_key(table, mapping.ids)
    ds, reading = _dates(table, mapping.date, key, dates)
    y = _target(table, mapping.target, decimal, limit)
    unreadable = _unreadable_sales(table, mapping.target, y)
    frame = pd.DataFrame({"unique_id": key, "ds": ds, "y": y})
    for col in [*mapping.ids, *mapping.attributes]:
        frame[col] = table[col].astype("string").str.strip()
    for col in mapping.drivers:
        frame[col] = _driver(table, col, decimal, limit)
    return frame.loc[ds.notna()].reset_index(drop=True), reading, unreadable


def _wide_to_long(
    table: pd.DataFrame, mapping: ColumnMapping, decimal: str, limit: float
) -> tuple[pd.DataFrame, DateReading, Unreadable | None]:
    """One block of rows per value column; a blank cell is a period with no record."""
    ds, reading = _dates(table, mapping.date, None)
    drivers = {col: _driver(table, col, decimal, limit) for col in mapping.drivers}
    blocks = []
    unreadable = None
    for col in mapping.wide:
        y = _target(table, col, decimal, limit)
        found = _unreadable_sales(table, col, y)
        if found:
            unreadable = found if unreadable is None else unreadable + found
        block = pd.DataFrame({"unique_id": f"{mapping.ids[0]}={col}", "ds": ds, "y": y})
        block[mapping.ids[0]] = col
        for name, values in drivers.items():
            block[name] = values
        blocks.append(block.loc[ds.notna() & y.notna()])
    frame = pd.concat(blocks, ignore_index=True)
    frame[mapping.ids[0]] = frame[mapping.ids[0]].astype("string")
    return frame, reading, unreadable


def series_key(table: pd.DataFrame, ids: list[str]) -> pd.Series:
    """``store=1/dept=7`` per row, one string per series shared by its rows: a string
    made for each row cost about 80 bytes a row (issue 30)."""
    if not ids:
        return pd.Series("total", index=table.index)
    parts = [table[col].fillna("").astype(str).str.strip() for col in ids]
    codes, combos = pd.MultiIndex.from_arrays(parts).factorize()
    names = np.array(
        [
            "/".join(f"{col}={value}" for col, value in zip(ids, combo, strict=True))
            for combo in combos
        ],
        dtype=object,
    )
    return pd.Series(names.take(codes), index=table.index)


#: a date written as three numbers (31.02.2025, 2025-02-31, 02/31/2025)
_DATE_SHAPE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


def _dates(
    table: pd.DataFrame,
    column: str,
    key: pd.Series | None,
    decided: tuple[pd.Series, DateReading] | None = None,
) -> tuple[pd.Series, DateReading]:
    if decided is None:
        ds, reading = read_dates(table[column], key, column)
    else:
        lookup, reading = decided
        ds = table[column].str.strip().map(lookup).astype("datetime64[ns]")
    bad = ds.isna() & table[column].notna()
    if bad.any():
        row = _data_row(table, bad)
        value = str(table[column].loc[row]).strip()
        where = f"{value!r} on data row {row + 1} (line {row + 2} of the file)"
        if _DATE_SHAPE.fullmatch(value) and reading.order != "as written":
            fix = (
                f"It is written like the column's other dates ({reading.order}) but is not a "
                "day of the calendar (a 31st of a 30-day month, a 29th of February outside a "
                "leap year, a month over 12): correct that date or remove its row."
            )
        else:
            fix = "Use a format such as 2024-01-31."
        raise DataError(
            f"Column {column!r} has {int(bad.sum())} value(s) that are not dates, e.g. "
            f"{where}. {fix}"
        )
    if ds.isna().all():
        raise DataError(f"Column {column!r} is empty. Fill in a date for every row.")
    return ds, reading


def _target(table: pd.DataFrame, column: str, decimal: str, limit: float) -> pd.Series:
    y = parse_numbers(table[column], decimal)
    text_y = y.isna() & table[column].notna()
    if text_y.mean() > 0.05:
        row = _data_row(table, text_y)
        raise DataError(
            f"The target column {column!r} is not numeric: {int(text_y.sum())} value(s) "
            f"such as {table[column].loc[row]!r} on data row {row + 1} are not numbers. "
            "Fix them or choose another column with --target."
        )
    if y.isna().all():
        raise DataError(f"The target column {column!r} has no values. Fill in the sales figures.")
    refuse_extreme(y, table[column], column, limit)
    return y


def _driver(table: pd.DataFrame, column: str, decimal: str, limit: float) -> pd.Series:
    values = parse_numbers(table[column], decimal)
    refuse_extreme(values, table[column], column, limit)
    return values


def read_plan_csv(
    source: str | Path | bytes,
    exog: tuple[str, ...] | list[str],
    date: str | None = None,
    ids: list[str] | None = None,
) -> pd.DataFrame:
    """Planned driver values for the forecast periods, read like any sales CSV (dates and
    numbers in the file's own writing): ``unique_id, ds`` and the drivers the file has.
    The one reader of plan files: the command line's ``--future`` and the Forecast page's
    plan upload. A file with none of the drivers is refused, naming them. ``ids``: the
    data set's series columns; those the file has name each row's series (none: one
    plan for whatever is forecast); None detects them."""
    raw = _read_bytes(source, Limits())
    text, _ = _decode(raw)
    header = next(csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text)), [])
    present = [name for name in exog if name in {c.strip() for c in header}]
    if not present:
        raise DataError(
            "A plan file needs a date column and at least one driver column of "
            f"{', '.join(exog)}; this one has {', '.join(header) or 'no header'}."
        )
    if ids is not None:
        ids = [name for name in ids if name in {c.strip() for c in header}]
    loaded = load_csv(raw, date=date, target=present[0], ids=ids)
    plan = loaded.frame.rename(columns={"y": present[0]})
    plan.attrs["ids"] = list(loaded.mapping.ids)  # the columns that named its series
    return plan


def plan_rows_of(
    plan: pd.DataFrame, series: Collection[str], label: str, advice: str
) -> pd.DataFrame:
    """A plan file's rows of ``series`` (``label`` names them to a reader). A file of
    dates and drivers only names no series and is returned whole; one whose rows name
    none of them is refused with ``advice``: a stranger's plan for 36 SKUs gave every
    period the last SKU's price, and another's plan for one series was dropped silently."""
    if not plan.attrs.get("ids"):
        return plan
    mine = plan.loc[plan["unique_id"].isin(series)]
    if mine.empty:
        some = ", ".join(plan["unique_id"].drop_duplicates().head(2))
        raise DataError(
            f"The plan file has rows for {plan['unique_id'].nunique()} series ({some}, ...) "
            f"but none for {label}: {advice}."
        )
    return mine
