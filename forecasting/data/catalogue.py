"""A sales file too large to hold, read into partitions of whole, cleaned series.

A catalogue's file (M5: 30,490 series, 59 million rows) read whole costs some 400
bytes a row as text cells before anything is cleaned (issue 30). Here no step holds
more than a chunk of the file's rows or one partition's:

1. **the head**: encoding, delimiter, decimal mark and the columns, read as for any
   file (``forecasting.data.loading``) from its first rows;
2. **series and dates**: every series' rows counted, and every distinct date read once,
   with one day/month order for the whole column (``read_dates``); the series are cut
   into partitions of whole series in the order the file first lists them;
3. **rows**: each chunk becomes the long frame, and its rows are appended to their
   series' partition on disk; then each partition is cleaned alone
   (``dataset.from_loaded``), told what only the whole file knows (``PanelFacts``:
   frequency, last date, last sale), and written back.

A file of wide tables (a column per series) is read whole: its size is its columns'.
The size limits that guard a whole reading (bytes, rows) do not apply; the number of
series does.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.data.dataset import Dataset, PanelFacts, from_loaded
from forecasting.data.dates import DateReading, read_dates
from forecasting.data.gaps import GapFill, describe, top_examples
from forecasting.data.limits import Limits
from forecasting.data.loading import (
    LoadedData,
    Unreadable,
    Written,
    read_written,
    series_key,
    to_long,
)
from forecasting.data.mapping import ColumnMapping
from forecasting.data.partitions import PARTITION_ROWS, Partitions, partition_numbers
from forecasting.data.reading_options import ReadingOptions
from forecasting.data.schema import without_rows
from forecasting.errors import DataError
from forecasting.memory import release_memory
from forecasting.progress import Reporter

log = logging.getLogger(__name__)

#: bytes of the file's head the columns are recognised on
HEAD_BYTES = 4 * 1024 * 1024
#: the shares of the reading's progress the counting pass and the splitting pass end at
#: (then each partition is cleaned)
COUNTING, SPLITTING = 0.25, 0.6
#: rows of the file read at a time (about 60 bytes a cell as text)
CHUNK_ROWS = 500_000


def estimated_rows(path: str | Path) -> int:
    """The file's rows, estimated from its size and its head's lines (0 for bytes)."""
    path = Path(path)
    if not path.is_file():
        return 0
    with open(path, "rb") as f:
        head = f.read(1024 * 1024)
    lines = max(head.count(b"\n"), 1)
    return int(path.stat().st_size / (len(head) / lines))


@dataclass
class Catalogue:
    """The cleaned partitions, and what reading the file found as a ``Dataset`` without
    rows says it (the reading, the spec, the cleaning reports summed). ``lookup`` maps
    ``unique_id`` to the file's id columns; ``steps`` and ``ended`` are the series on the
    ladder's lowest steps and those that end before the file does, gathered from the
    partitions."""

    partitions: Partitions
    data: Dataset
    lookup: pd.DataFrame
    steps: pd.Series
    ended: pd.Series

    def notes(self) -> list[str]:
        return self.data.notes(self.steps, self.ended)


def read_catalogue(
    path: str | Path,
    reading: ReadingOptions,
    folder: Path,
    *,
    rows: int = PARTITION_ROWS,
    limits: Limits | None = None,
    chunk_rows: int = CHUNK_ROWS,
    reporter: Reporter | None = None,
) -> Catalogue:
    """Read ``path`` into cleaned partitions of at most ``rows`` rows in ``folder``;
    ``reporter`` hears the share read (minutes, for tens of millions of rows)."""
    limits = limits or Limits()
    reporter = reporter or Reporter()
    path = Path(path)
    if not path.is_file():
        raise DataError(f"File not found: {path}. Check the path and try again.")
    head = _Head.read(path, reading)
    if head.mapping.wide:
        raise DataError(
            "A wide file (a column per series) is read whole; it is too large for that. "
            "Write it long (date, series id, sales) to read it in partitions."
        )
    census = _Census.take(head, chunk_rows, reporter.sub(0.0, COUNTING), estimated_rows(path))
    if len(census.lengths) > limits.max_series:
        raise DataError(
            f"The data has {len(census.lengths):,} series, over the limit of "
            f"{limits.max_series:,}. Forecast at a higher level (e.g. category instead of "
            "item), or raise MAX_SERIES."
        )
    dates = census.date_reading(head.mapping.date)
    number = pd.Series(
        partition_numbers(census.lengths.to_numpy(), rows), index=census.lengths.index
    )
    log.info(
        "reading: %s rows of %s series counted, %s distinct dates (%s); %s partitions",
        f"{census.rows:,}", f"{len(census.lengths):,}", f"{len(census.dates):,}",
        dates[1].order, number.max() + 1,
    )  # fmt: skip
    raw = folder / "raw"
    splitting = reporter.sub(COUNTING, SPLITTING)
    limit = limits.max_abs_value
    sums = _split(head, dates, number, raw, chunk_rows, limit, splitting, census.rows)
    cleaning = reporter.sub(SPLITTING, 1.0)
    return _clean_partitions(head, census, dates[1], sums, raw, folder, reading, limits, cleaning)


@dataclass
class _Head:
    """What the file's first rows say: how it is written and what its columns are."""

    path: Path
    written: Written

    @property
    def mapping(self) -> ColumnMapping:
        return self.written.mapping

    @classmethod
    def read(cls, path: Path, reading: ReadingOptions) -> _Head:
        with open(path, "rb") as f:
            raw = f.read(HEAD_BYTES)
        if len(raw) == HEAD_BYTES:  # whole lines only
            raw = raw[: raw.rfind(b"\n") + 1]
        ids = None if reading.ids is None else list(reading.ids)
        _, written = read_written(raw, Limits(), reading.date, reading.target, ids)
        return cls(path, written)

    def chunks(self, columns: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The file's rows as text cells, ``chunk_rows`` at a time, labelled by data row."""
        renamed = self.written.mapping.renamed
        reader = pd.read_csv(
            self.path,
            sep=self.written.delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            encoding=self.written.encoding,
            encoding_errors="replace",
            usecols=lambda c: renamed.get(c.strip(), c.strip()) in columns,
            chunksize=chunk_rows,
            index_col=False,  # as the whole file is read (``loading._read_table``)
        )
        for chunk in reader:
            chunk.columns = [renamed.get(c.strip(), c.strip()) for c in map(str, chunk.columns)]
            yield chunk.replace({"": None})


@dataclass
class _Census:
    """Every series' rows, the id columns of each, and each distinct date's first row."""

    lengths: pd.Series
    lookup: pd.DataFrame
    dates: pd.Series  # distinct date text, labelled by the data row it first appears on
    rows: int

    @classmethod
    def take(cls, head: _Head, chunk_rows: int, reporter: Reporter, expected: int) -> _Census:
        ids, date = head.mapping.ids, head.mapping.date
        lengths: dict[str, int] = {}
        lookups, firsts = [], {}
        rows = 0
        for chunk in head.chunks([date, *ids], chunk_rows):
            key = series_key(chunk, ids)
            for uid, n in key.groupby(key, sort=False).size().items():
                lengths[uid] = lengths.get(uid, 0) + int(n)
            if ids:
                first = ~key.duplicated()
                part = chunk.loc[first, ids].apply(lambda c: c.astype("string").str.strip())
                lookups.append(part.assign(unique_id=key[first].to_numpy()))
            text = chunk[date].str.strip().dropna()
            for row, value in text.drop_duplicates().items():
                firsts.setdefault(value, row)
            rows += len(chunk)
            reporter.report(min(rows / max(expected, 1), 0.99), f"reading: {rows:,} rows counted")
        if not rows:
            raise DataError("The file has a header row but no data rows. Add sales.")
        lookup = (
            pd.concat(lookups).drop_duplicates("unique_id")[["unique_id", *ids]]
            if lookups
            else pd.DataFrame({"unique_id": list(lengths)})
        )
        dates = pd.Series(list(firsts), index=list(firsts.values()), dtype="string")
        return cls(pd.Series(lengths), lookup.reset_index(drop=True), dates, rows)

    def date_reading(self, column: str) -> tuple[pd.Series, DateReading]:
        """Each distinct date text to its date, with one order for the column."""
        parsed, reading = read_dates(self.dates, None, column)
        lookup = pd.Series(parsed.to_numpy(), index=self.dates.to_numpy())
        return lookup, reading


@dataclass
class _Sums:
    """What the rows pass adds up: rows read, unreadable sales, last date and sale."""

    rows: int = 0
    unreadable: Unreadable | None = None
    end: pd.Timestamp | None = None
    last_sale: pd.Timestamp | None = None

    def add(self, frame: pd.DataFrame, unreadable: Unreadable | None) -> None:
        if unreadable:
            first = self.unreadable
            self.unreadable = unreadable if first is None else first + unreadable
        if len(frame):
            self.end = _later(self.end, frame["ds"].max())
        sold = frame.loc[frame["y"].notna(), "ds"]
        if len(sold):
            self.last_sale = _later(self.last_sale, sold.max())


def _later(a: pd.Timestamp | None, b: pd.Timestamp) -> pd.Timestamp:
    return b if a is None else max(a, b)


def _split(
    head: _Head,
    dates: tuple[pd.Series, DateReading],
    number: pd.Series,
    raw: Path,
    chunk_rows: int,
    limit: float,
    reporter: Reporter,
    total: int,
) -> _Sums:
    """Read the rows chunk by chunk into their partitions' folders under ``raw``."""
    mapping = head.mapping
    columns = [mapping.date, mapping.target, *mapping.ids, *mapping.attributes]
    sums = _Sums()
    for j, chunk in enumerate(head.chunks([*columns, *mapping.drivers], chunk_rows)):
        frame, _, unreadable = to_long(chunk, mapping, head.written.decimal, limit, dates)
        sums.rows += len(chunk)
        sums.add(frame, unreadable)
        parts = frame["unique_id"].map(number).to_numpy()
        for k, piece in frame.groupby(parts, sort=False):
            where = raw / f"part-{k:05d}"
            where.mkdir(parents=True, exist_ok=True)
            piece.to_parquet(where / f"chunk-{j:06d}.parquet", index=False)
        reporter.report(sums.rows / total, f"reading: {sums.rows:,} of {total:,} rows split")
    return sums


def _clean_partitions(
    head: _Head,
    census: _Census,
    reading_dates: DateReading,
    sums: _Sums,
    raw: Path,
    folder: Path,
    reading: ReadingOptions,
    limits: Limits,
    reporter: Reporter,
) -> Catalogue:
    """Clean each partition alone, with what the whole file says; sum their reports."""
    exog = list(reading.exog or head.mapping.drivers)
    unread = sums.unreadable
    end = sums.last_sale if exog and sums.last_sale is not None else sums.end
    loaded = LoadedData(
        pd.DataFrame(), head.mapping, head.written.encoding, head.written.delimiter,
        head.written.decimal,
        sums.rows, reading_dates, unread.sentence() if unread else None,
        unread.cells if unread else 0,
    )  # fmt: skip
    facts = PanelFacts(end=end, last_sale=sums.last_sale)
    files, lengths, steps, ended, parts = [], [], [], [], []
    zeros = 0
    parts_found = sorted(raw.iterdir())
    for k, where in enumerate(parts_found):
        frame = pd.read_parquet(where)
        shutil.rmtree(where)
        part = from_loaded(replace(loaded, frame=frame), reading, limits=limits, panel=facts)
        # the first partition's frequency, inferred as a whole reading does, every other fits
        facts = replace(facts, freq=part.cleaned.freq)
        del frame
        files.append(folder / f"part-{k:05d}.parquet")
        part.frame.to_parquet(files[-1], index=False)
        lengths.append(part.frame.groupby("unique_id", sort=False).size())
        zeros += int((part.frame["y"] == 0).sum())
        steps.append(part.ladder_steps())
        ended.append(part.ended_early(end))
        # the periods the gap rule filled, as keys only: what a stored version marks
        filled = part.cleaned.filled
        keys = filled[["unique_id", "ds"]] if filled is not None else None
        rowless = replace(part.cleaned, frame=without_rows(part.frame), filled=keys)
        parts.append(replace(part, cleaned=rowless))
        del part, rowless
        release_memory()
        said = f"reading: partition {k + 1} of {len(parts_found)} cleaned"
        log.info("%s (%s rows)", said, f"{int(lengths[-1].sum()):,}")
        reporter.report((k + 1) / len(parts_found), said)
    shutil.rmtree(raw, ignore_errors=True)
    return Catalogue(
        Partitions(tuple(files), pd.concat(lengths)),
        _summed(parts, loaded, zeros),
        census.lookup,
        pd.concat(steps),
        pd.concat(ended).sort_index(),
    )


#: the counts of the cleaning report a catalogue's is the sum of its partitions'
_SUMMED = (
    "series", "rows_in", "rows_out", "exact_duplicates_dropped", "duplicate_periods_summed",
    "missing_targets_filled", "gaps_filled", "values_filled", "gaps_as_zero",
    "gaps_as_missing", "missing_records_left_out", "leading_zeros_trimmed",
    "negative_values", "outliers_flagged", "series_missing", "series_zero_filled",
    "series_interpolated",
)  # fmt: skip


def _summed(parts: list[Dataset], loaded: LoadedData, zeros: int) -> Dataset:
    """The partitions (without rows) as one: reports summed, the drivers all kept."""
    reports = [p.cleaned.report for p in parts]
    report = replace(reports[0], **{k: sum(getattr(r, k) for r in reports) for k in _SUMMED})
    report.start = min(r.start for r in reports)
    report.end = max(r.end for r in reports)
    report.periods_missing_everywhere = max(r.periods_missing_everywhere for r in reports)
    report.zero_share = round(zeros / max(report.rows_out, 1), 4)
    report.dropped_series = {k: v for r in reports for k, v in r.dropped_series.items()}
    for field_name in ("zero_filled_examples", "interpolated_examples"):
        merged = {k: v for r in reports for k, v in getattr(r, field_name).items()}
        setattr(report, field_name, top_examples(merged))  # a series is in one partition
    counts = GapFill(
        pd.Series(dtype=float), np.empty(0, bool), report.gaps_as_zero, report.gaps_as_missing,
        report.missing_records_left_out, report.series_missing,
        report.periods_missing_everywhere, None, report.series_zero_filled,
        report.zero_filled_examples, report.series_interpolated, report.interpolated_examples,
    )  # fmt: skip
    freq = parts[0].cleaned.freq
    report.gap_rule = describe(counts, report.gap_policy, freq)
    left_out: dict[str, str] = {}
    outcomes: dict[str, str] = {}
    for p in parts:  # a driver left out of one partition is left out of all
        for col, why in p.drivers_left_out.items():
            left_out.setdefault(col, why)
        for col, why in p.outcomes.items():
            outcomes.setdefault(col, why)
    spec = parts[0].spec
    exog = tuple(c for c in spec.exog if c not in left_out)
    spec = replace(
        spec,
        exog=exog,
        prices=tuple(c for c in spec.prices if c in exog),
        promotions=tuple(c for c in spec.promotions if c in exog),
    )
    plans = [p.plan for p in parts if p.plan is not None]
    plan = None
    if plans and exog:
        plan = pd.concat(plans, ignore_index=True)[["unique_id", "ds", *exog]]
    outliers = [p.cleaned.outliers for p in parts if len(p.cleaned.outliers)]
    filled = [p.cleaned.filled for p in parts if p.cleaned.filled is not None]
    cleaned = replace(
        parts[0].cleaned,
        report=report,
        outliers=pd.concat(outliers, ignore_index=True) if outliers else pd.DataFrame(),
        filled=pd.concat(filled, ignore_index=True) if filled else None,
    )
    return Dataset(loaded, cleaned, spec, parts[0].drivers_named, plan, left_out, outcomes)
