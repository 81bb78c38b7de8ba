"""Storing a catalogue's rows: the observations insert, ours against SQLAlchemy Core's.

A catalogue's ingest stores every cleaned row in the database (16 million at 10,000
daily series). ``storage.datasets._bulk`` hands the driver's ``executemany`` tuples
bound as SQLAlchemy would; the peer is SQLAlchemy Core's ``connection.execute(insert,
records)``, what it did before. Both insert the same M5-shaped rows into a fresh
database, in turns, and roll back; medians of ``--repeats`` turns each.

    python bench/bulk_insert.py [--rows 500000] [--repeats 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import print_table

from storage import datasets
from storage.database import Database
from storage.tables import DatasetVersion, Observation


def rows(n: int, version: int) -> pd.DataFrame:
    days = pd.date_range("2011-01-29", periods=1941, freq="D").to_numpy()
    series = n // len(days) + 1
    names = [f"store=S{i % 10}|item=I{i:05d}" for i in range(series)]
    return pd.DataFrame(
        {
            "dataset_id": version,
            "unique_id": np.repeat(names, len(days))[:n],
            "ds": np.tile(days, series)[:n],
            "y": np.random.default_rng(0).poisson(1.2, n).astype(float),
            "is_outlier": False,
            "is_filled": False,
        }
    )


def ours(session, frame: pd.DataFrame) -> None:
    datasets._bulk(session, Observation, frame)


def core_records(session, frame: pd.DataFrame) -> None:
    """The peer: SQLAlchemy Core's insert of records, a chunk at a time."""
    statement, connection = Observation.__table__.insert(), session.connection()
    for start in range(0, len(frame), datasets.CHUNK):
        part = frame.iloc[start : start + datasets.CHUNK]
        part = part.assign(unique_id=part["unique_id"].astype(str), ds=part["ds"].astype(object))
        connection.execute(statement, part.to_dict("records"))


def timed(db: Database, insert, frame: pd.DataFrame) -> float:
    with db.session() as s:
        started = time.perf_counter()
        insert(s, frame)
        s.flush()
        seconds = time.perf_counter() - started
        s.rollback()
    return seconds


def version(db: Database) -> int:
    with db.session() as s:
        v = DatasetVersion(
            source_name="bench", sha256="-", freq="D", exog=[], attributes=[], country=None,
            series_count=1, row_count=1, start=pd.Timestamp("2011-01-29"),
            end=pd.Timestamp("2016-05-22"), mapping={}, cleaning={},
        )  # fmt: skip
        s.add(v)
        s.commit()
        return v.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", help="also a PostgreSQL database (SQLAlchemy URL)")
    args = parser.parse_args()
    urls = {"SQLite": f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"}
    if args.postgres:
        urls["PostgreSQL"] = args.postgres
    table = []
    for name, url in urls.items():
        db = Database(url)
        db.migrate()
        frame = rows(args.rows, version(db))
        seconds = {"ours": [], "core": []}
        for _ in range(args.repeats):
            seconds["ours"].append(timed(db, ours, frame))
            seconds["core"].append(timed(db, core_records, frame))
        mine, core = (statistics.median(seconds[k]) for k in ("ours", "core"))
        table.append(
            {
                "database": name,
                "rows": f"{args.rows:,}",
                "ours s": f"{mine:.2f}",
                "SQLAlchemy Core s": f"{core:.2f}",
                "ours / Core": f"{mine / core:.2f}x",
                "ours rows/s": f"{args.rows / mine:,.0f}",
            }
        )
    print_table(table)


if __name__ == "__main__":
    main()
