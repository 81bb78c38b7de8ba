"""Data set versions: the cleaned long frame in, the same frame back out.

Takes and returns plain pandas frames and dicts (storage knows nothing of the
forecasting library). Drivers are stored long, one row per value, so any
number of driver columns fits one schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import delete, func, insert, select, true

from storage.database import MAX_ID, Database
from storage.period_sums import PeriodSums
from storage.tables import DatasetVersion, DriverValue, Observation, PeriodSum, Series

CHUNK = 50_000
#: observations read from the database at a time
READ_ROWS = 500_000


@dataclass
class StoredDataset:
    id: int
    info: dict
    #: ``unique_id, ds, y, is_outlier, is_filled``, the id and attribute columns, the drivers
    frame: pd.DataFrame
    #: ``unique_id, ds`` and the drivers' planned values past the last sale, if the file had any
    plan: pd.DataFrame | None = None


def save_dataset(
    db: Database,
    *,
    frame: pd.DataFrame | Iterable[pd.DataFrame],
    info: dict,
    key_columns: list[str],
    exog: list[str],
    outliers: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
    filled: pd.DataFrame | None = None,
) -> int:
    """Store one version in a single transaction (all of it or nothing).

    ``frame`` is the version's rows, or its partitions of whole series one after the
    other (a catalogue's, read one at a time: only one is held). ``plan`` (drivers past
    the last sale) is stored with the drivers, after the history; ``outliers`` and
    ``filled`` (``unique_id, ds``) mark their observations.
    """
    frames = [frame] if isinstance(frame, pd.DataFrame) else frame
    with db.session() as s:
        version = DatasetVersion(
            series_count=0, row_count=0, start=datetime.max, end=datetime.min,
            exog=list(exog), attributes=list(key_columns), **info,
        )  # fmt: skip
        s.add(version)
        s.flush()
        sums = PeriodSums(key_columns)
        for part in frames:
            _save_rows(s, version, part, key_columns, exog, outliers, filled)
            sums.add(part, _marked(part, filled))
        _bulk(s, PeriodSum, sums.rows(version.id))
        if plan is not None:
            _save_drivers(s, version.id, plan, exog)
        s.flush()
        return version.id


def _save_rows(
    s,
    version: DatasetVersion,
    frame: pd.DataFrame,
    key_columns: list[str],
    exog: list[str],
    outliers: pd.DataFrame | None,
    filled: pd.DataFrame | None,
) -> None:
    """One partition's series, observations and drivers; the version's counts grow."""
    if frame.empty:
        return
    frame = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    flags = _marked(frame, outliers)
    gaps = _marked(frame, filled)
    series = frame.groupby("unique_id", sort=True).agg(
        total=("y", "sum"), **{c: (c, "first") for c in key_columns}
    )
    version.series_count += len(series)
    version.row_count += len(frame)
    version.start = min(version.start, frame["ds"].min().to_pydatetime())
    version.end = max(version.end, frame["ds"].max().to_pydatetime())
    s.execute(
        insert(Series),
        [
            {
                "dataset_id": version.id,
                "unique_id": uid,
                "keys": {c: plain(row[c]) for c in key_columns},
                "total": float(row["total"]),
            }
            for uid, row in series.iterrows()
        ],
    )
    obs = pd.DataFrame(
        {
            "dataset_id": version.id,
            "unique_id": frame["unique_id"],
            "ds": frame["ds"],
            "y": frame["y"].astype(float),
            "is_outlier": flags.to_numpy(),
            "is_filled": gaps.to_numpy(),
        }
    )
    _bulk(s, Observation, obs)
    _save_drivers(s, version.id, frame, exog)


def _save_drivers(s, version_id: int, rows: pd.DataFrame, exog: list[str]) -> None:
    for col in exog:
        drivers = pd.DataFrame(
            {
                "dataset_id": version_id,
                "unique_id": rows["unique_id"],
                "ds": rows["ds"],
                "name": col,
                "value": rows[col].astype(float),
            }
        ).dropna(subset=["value"])
        _bulk(s, DriverValue, drivers)


def _marked(frame: pd.DataFrame, marks: pd.DataFrame | None) -> pd.Series:
    """Whether each row of ``frame`` is among ``marks`` (``unique_id, ds``)."""
    if marks is None or not len(marks):
        return pd.Series(False, index=frame.index)
    marks = marks[["unique_id", "ds"]].drop_duplicates().assign(_m=True)
    merged = frame[["unique_id", "ds"]].merge(marks, how="left", on=["unique_id", "ds"])
    return merged["_m"].eq(True).set_axis(frame.index)


def _bulk(session, table, frame: pd.DataFrame) -> None:
    """Rows a ``CHUNK`` at a time through the driver: PostgreSQL's ``COPY`` (psycopg), or
    ``executemany`` of tuples; each value bound as SQLAlchemy would (the column type's
    bind processor for the dialect: SQLite's dates are text in its format). SQLAlchemy
    Core's insert of records took 3x as long on both (``bench/bulk_insert.py``): storing
    a catalogue's 16 million rows was half its ingest. Python records exist only for
    the chunk being written: all at once held 2.3 GB more for 4.9 million rows."""
    connection = session.connection()
    dialect = connection.dialect
    columns = list(frame.columns)
    binds = [
        table.__table__.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in columns
    ]
    quote = dialect.identifier_preparer.quote
    into = f"{quote(table.__tablename__)} ({', '.join(map(quote, columns))})"
    copy = dialect.driver == "psycopg"
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    insert = f"INSERT INTO {into} VALUES ({', '.join([marker] * len(columns))})"
    for start in range(0, len(frame), CHUNK):
        part = frame.iloc[start : start + CHUNK]
        values = [_bound(part[name], bind) for name, bind in zip(columns, binds, strict=True)]
        rows = zip(*values, strict=True)
        if copy:
            _copy(connection, f"COPY {into} FROM STDIN", rows)
        else:
            connection.exec_driver_sql(insert, list(rows))


def _copy(connection, statement: str, rows) -> None:
    """``rows`` through psycopg's ``COPY``, in the session's transaction."""
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(statement) as writer:
        for row in rows:
            writer.write_row(row)


def _bound(column: pd.Series, bind) -> list:
    """A column's values as Python objects, through the type's ``bind`` processor."""
    if pd.api.types.is_datetime64_any_dtype(column):
        values = column.to_numpy(dtype="datetime64[us]").tolist()  # datetime objects
    elif column.dtype.kind == "f" and column.hasnans:  # NULL, as SQLAlchemy binds None
        values = column.astype(object).where(column.notna(), None).tolist()
    else:
        values = column.tolist()
    return values if bind is None else [bind(v) for v in values]


def plain(value):
    """JSON-safe scalar (numpy ints and floats to Python's)."""
    return value.item() if hasattr(value, "item") else value


def load_dataset(db: Database, dataset_id: int) -> StoredDataset:
    with db.session() as s:
        version = s.get(DatasetVersion, dataset_id)
        if version is None:
            raise KeyError(dataset_id)
        info = dataset_dict(version)
        frame, plan = _assembled(s, dataset_id, info, None)
    return StoredDataset(dataset_id, info, frame, plan)


def dataset_parts(db: Database, dataset_id: int, rows: int) -> Iterator[pd.DataFrame]:
    """A version's rows as ``load_dataset``'s frame, a partition of whole series of at
    most ``rows`` rows (or one series) at a time, in the database's order of the series:
    what reads a catalogue's stored version without holding all of it (issue 30)."""
    return (frame for frame, _plan in dataset_parts_with_plan(db, dataset_id, rows))


def dataset_parts_with_plan(
    db: Database, dataset_id: int, rows: int
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame | None]]:
    """``dataset_parts``, each with its series' plan (the drivers past their last sale)."""
    with db.session() as s:
        version = s.get(DatasetVersion, dataset_id)
        if version is None:
            raise KeyError(dataset_id)
        info = dataset_dict(version)
        sizes = s.execute(
            select(Observation.unique_id, func.count())
            .where(Observation.dataset_id == dataset_id)
            .group_by(Observation.unique_id)
            .order_by(Observation.unique_id)
        ).all()
    for first, last in _ranges(sizes, rows):
        with db.session() as s:
            yield _assembled(s, dataset_id, info, (first, last))


def _ranges(sizes: list[tuple[str, int]], rows: int) -> Iterator[tuple[str, str]]:
    """First and last id of consecutive series adding up to at most ``rows`` rows (the
    rule of ``forecasting.data.partitions``, which storage does not import)."""
    first = last = None
    count = 0
    for uid, n in sizes:
        if first is not None and count + n > rows:
            yield first, last
            first, count = None, 0
        if first is None:
            first = uid
        last, count = uid, count + n
    if first is not None:
        yield first, last


def _assembled(
    s, dataset_id: int, info: dict, between: tuple[str, str] | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The frame (observations, attributes, drivers) and the plan of the series with ids
    ``between`` two (all where None)."""
    conn = s.connection()

    def within(column):
        return column.between(*between) if between else true()

    obs = _observations(conn, dataset_id, within(Observation.unique_id))
    keys = s.execute(
        select(Series.unique_id, Series.keys).where(
            Series.dataset_id == dataset_id, within(Series.unique_id)
        )
    ).all()
    drivers = pd.read_sql(
        select(DriverValue.unique_id, DriverValue.ds, DriverValue.name, DriverValue.value).where(
            DriverValue.dataset_id == dataset_id, within(DriverValue.unique_id)
        ),
        conn,
    )
    if keys and info["attributes"]:
        lookup = pd.DataFrame([{"unique_id": uid, **k} for uid, k in keys])
        obs = obs.merge(lookup, on="unique_id", how="left")
    plan = None
    if len(drivers):
        drivers["ds"] = pd.to_datetime(drivers["ds"])
        wide = drivers.pivot_table(
            index=["unique_id", "ds"], columns="name", values="value", aggfunc="first"
        ).reset_index()
        wide.columns.name = None
        obs = obs.merge(wide, on=["unique_id", "ds"], how="left")
        last = obs.groupby("unique_id")["ds"].max()
        ahead = wide["ds"] > wide["unique_id"].map(last)
        plan = wide.loc[ahead].reset_index(drop=True) if ahead.any() else None
    return obs, plan


def _observations(conn, dataset_id: int, where=None) -> pd.DataFrame:
    """A version's observations (those ``where`` says), in compact columns
    (``compact_read``): a whole read held every row as Python objects at once, 2.7 GB
    for 4.9 million rows, where the frame holds 1.6 GB."""
    query = (
        select(
            Observation.unique_id,
            Observation.ds,
            Observation.y,
            Observation.is_outlier,
            Observation.is_filled,
        )
        .where(Observation.dataset_id == dataset_id, true() if where is None else where)
        .order_by(Observation.unique_id, Observation.ds)
    )
    obs = compact_read(query, conn, text=("unique_id",), dates=("ds",))
    return obs.astype({"y": float, "is_outlier": bool, "is_filled": bool}, copy=False)


def series_rows(db: Database, dataset_id: int, unique_id: str) -> pd.DataFrame:
    """``unique_id, ds, y, is_outlier, is_filled`` of one series, in date order, read
    through the observations' index (a page's chart of one series of a catalogue)."""
    with db.session() as s:
        return _observations(s.connection(), dataset_id, Observation.unique_id == unique_id)


def compact_read(
    query, conn, text: tuple[str, ...], dates: tuple[str, ...], rows: int | None = None
) -> pd.DataFrame:
    """The rows of ``query``, ``rows`` (``READ_ROWS``) at a time, each chunk made compact
    columns before the next is read: ``dates`` as datetimes, and ``text`` columns with
    one string per distinct value shared by every row that has it (as read, each row
    held its own: a run's stored forecast of 1.1 million rows took 617 MB in every web
    worker). The Python rows of a chunk are freed after it, but not always the memory
    they took: fewer rows a chunk leave less behind."""
    chunks = []
    for chunk in pd.read_sql(query, conn, chunksize=rows or READ_ROWS):
        for name in text:
            chunk[name] = chunk[name].astype("category")
        for name in dates:
            chunk[name] = pd.to_datetime(chunk[name])
        chunks.append(chunk)
    if not chunks:
        columns = [c.name for c in query.selected_columns]
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return empty.astype({name: "datetime64[ns]" for name in dates})
    shared = {name: union_categoricals([c[name] for c in chunks]) for name in text}
    for chunk in chunks:
        for name in text:
            del chunk[name]
    out = pd.concat(chunks, ignore_index=True)
    columns = [c.name for c in query.selected_columns]
    for name, values in shared.items():
        strings = np.asarray(values.astype(object))
        strings[values.isna()] = None  # NULL reads None, as read whole
        out[name] = strings
    return out[columns]


def outlier_observations(db: Database, dataset_id: int) -> pd.DataFrame:
    """``unique_id, ds, y`` of a version's observations marked as outliers."""
    query = (
        select(Observation.unique_id, Observation.ds, Observation.y)
        .where(Observation.dataset_id == dataset_id, Observation.is_outlier)
        .order_by(Observation.unique_id, Observation.ds)
    )
    with db.session() as s:
        rows = pd.read_sql(query, s.connection())
    rows["ds"] = pd.to_datetime(rows["ds"])
    return rows


def series_keys(db: Database, dataset_id: int) -> pd.DataFrame:
    """``unique_id``, total sales and the input's own id/attribute columns, one row per series."""
    with db.session() as s:
        rows = s.execute(
            select(Series.unique_id, Series.total, Series.keys).where(
                Series.dataset_id == dataset_id
            )
        ).all()
    return pd.DataFrame([{"unique_id": u, "total": t, **k} for u, t, k in rows])


def latest_dataset_id(db: Database) -> int | None:
    with db.session() as s:
        return s.scalar(select(func.max(DatasetVersion.id)))


def dataset_info(db: Database, dataset_id: int) -> dict | None:
    if not 0 < dataset_id <= MAX_ID:  # beyond what the database can hold: not stored
        return None
    with db.session() as s:
        version = s.get(DatasetVersion, dataset_id)
        return dataset_dict(version) if version else None


def list_datasets(db: Database) -> list[dict]:
    with db.session() as s:
        versions = s.scalars(select(DatasetVersion).order_by(DatasetVersion.id.desc())).all()
        return [dataset_dict(v) for v in versions]


def delete_dataset(db: Database, dataset_id: int) -> None:
    with db.session() as s:
        for table in (DriverValue, Observation, PeriodSum, Series):
            s.execute(delete(table).where(table.dataset_id == dataset_id))
        s.execute(delete(DatasetVersion).where(DatasetVersion.id == dataset_id))


def dataset_dict(v: DatasetVersion) -> dict:
    return {
        "id": v.id,
        "source_name": v.source_name,
        "sha256": v.sha256,
        "mapping": v.mapping,
        "freq": v.freq,
        "exog": v.exog,
        "attributes": v.attributes,
        "country": v.country,
        "series": v.series_count,
        "rows": v.row_count,
        "start": v.start.date().isoformat(),
        "end": v.end.date().isoformat(),
        "cleaning": v.cleaning,
        "created_at": v.created_at.isoformat(timespec="seconds"),
        "parent_id": v.parent_id,
        "appended": v.appended,
    }


def sales_column(info: dict | None) -> str | None:
    """The column a data set version read as the sales (None: not known)."""
    return (((info or {}).get("mapping") or {}).get("mapping") or {}).get("target")


def drivers_named(info: dict | None) -> bool:
    """Whether a data set version's drivers were named by the user (they are then given to
    every model that reads drivers, as when it was first trained), not screened."""
    return bool(((info or {}).get("mapping") or {}).get("drivers_named"))
