"""The data layer against a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import joblib
import numpy as np
import pandas as pd
import psutil
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from storage import period_sums, results, run_reads, run_rows
from storage.artifacts import ArtifactStore
from storage.database import Database
from storage.datasets import (
    dataset_parts,
    delete_dataset,
    load_dataset,
    save_dataset,
    series_keys,
    series_rows,
)
from storage.period_sums import stored_sums, summed_in_database
from storage.results import production, save_forecasts, stored_forecasts
from storage.tables import Base, ForecastPoint, Run
from tests.support.frames import make_frame


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def test_migrations_build_exactly_the_declared_schema(db):
    db.migrate()  # idempotent
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite'}")
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.integrity_ok()


def test_readers_are_not_blocked_by_an_open_write(db):
    first = run_rows.create_run(db, "run", {})
    run_rows.finish(db, first, "succeeded", promote=True)
    writer = db.engine.connect()
    tx = writer.begin()
    writer.execute(Run.__table__.update().where(Run.id == first).values(message="writing"))
    try:
        seen = {}

        def read() -> None:
            seen["runs"] = run_reads.list_runs(db)

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "a read waited for the open write transaction"
        assert seen["runs"][0]["message"] is None  # the uncommitted write is invisible
    finally:
        tx.rollback()
        writer.close()


def test_only_one_active_run_and_the_refusal_names_it(db):
    first = run_rows.create_run(db, "train", {"trials": 5})
    with pytest.raises(run_rows.RunConflict) as refused:
        run_rows.create_run(db, "train", {})
    assert refused.value.running_id == first
    assert f"Run {first} is already in progress" in str(refused.value)
    run_rows.finish(db, first, "cancelled", error="stopped")
    second = run_rows.create_run(db, "train", {})
    assert second != first
    assert run_reads.get_run(db, second)["status"] == "queued"


def test_a_run_whose_process_died_is_failed_and_frees_the_slot(db):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = run_rows.Owner(
        run_rows.Owner.current().host, child.pid, psutil.Process(child.pid).create_time()
    )
    run_id = run_rows.create_run(db, "train", {})
    run_rows.update_run(db, run_id, owner=str(owner), status="running", step="train")
    assert run_rows.recover_abandoned(db) == []  # alive: left alone
    child.kill()
    child.wait()
    assert run_rows.recover_abandoned(db) == [run_id]
    run = run_reads.get_run(db, run_id)
    assert run["status"] == "failed"
    assert "killed or crashed" in run["error"] and "during step train" in run["error"]
    run_rows.create_run(db, "train", {})  # the slot is free again


def test_create_run_recovers_a_dead_owner_instead_of_refusing(db):
    run_id = run_rows.create_run(db, "train", {})
    run_rows.update_run(db, run_id, owner="elsewhere-host:1:1.00", status="running")
    run_rows.update_run(
        db, run_id, heartbeat_at=pd.Timestamp("2020-01-01", tz="UTC").to_pydatetime()
    )
    new_id = run_rows.create_run(db, "train", {})
    assert run_reads.get_run(db, run_id)["status"] == "failed"
    assert run_reads.get_run(db, new_id)["status"] == "queued"


def test_a_run_on_another_host_is_failed_once_quiet_past_the_window(db):
    """A run worker elsewhere cannot be looked up: its heartbeat is the evidence."""
    run_id = run_rows.create_run(db, "train", {})
    run_rows.update_run(db, run_id, owner="worker-b:77:1.00", status="running", step="train")
    quiet = datetime.now(UTC) - timedelta(seconds=45)
    run_rows.update_run(db, run_id, heartbeat_at=quiet)
    assert run_rows.recover_abandoned(db, stale_after=timedelta(seconds=60)) == []
    assert run_rows.recover_abandoned(db, stale_after=timedelta(seconds=30)) == [run_id]
    assert "pid 77 on worker-b" in run_reads.get_run(db, run_id)["error"]


def test_a_run_no_worker_took_says_to_start_one(db):
    run_id = run_rows.create_run(db, "train", {})
    assert run_rows.hand_over(db, run_id, run_rows.Owner.queue())
    assert run_rows.recover_abandoned(db, stale_after=timedelta(seconds=30)) == []
    created = datetime.now(UTC) - timedelta(seconds=45)
    run_rows.update_run(db, run_id, created_at=created)
    assert run_rows.recover_abandoned(db, stale_after=timedelta(seconds=30)) == [run_id]
    run = run_reads.get_run(db, run_id)
    assert run["status"] == "failed"
    assert "No run worker took this run" in run["error"], run["error"]
    assert "python -m pipeline worker" in run["error"]


def test_production_switches_in_one_transaction_and_only_to_a_succeeded_run(db):
    first = run_rows.create_run(db, "train", {})
    run_rows.finish(db, first, "succeeded", promote=True)
    assert production(db)["run_id"] == first
    failed = run_rows.create_run(db, "train", {})
    with pytest.raises(ValueError, match="Only a succeeded run"):
        run_rows.finish(db, failed, "failed", promote=True)
    # the refused promotion changed nothing, not even the run's status
    assert run_reads.get_run(db, failed)["status"] == "queued"
    run_rows.finish(db, failed, "failed", error="boom")
    second = run_rows.create_run(db, "train", {})
    run_rows.finish(db, second, "succeeded", promote=True)
    assert production(db) | {"promoted_at": None} == {
        "run_id": second,
        "previous_run_id": first,
        "promoted_at": None,
    }
    listed = {r["id"]: r["production"] for r in run_reads.list_runs(db)}
    assert listed == {first: False, failed: False, second: True}


def test_cancel_sets_a_flag_only_on_active_runs(db):
    run_id = run_rows.create_run(db, "train", {})
    assert not run_rows.cancel_requested(db, run_id)
    assert run_rows.request_cancel(db, run_id) == "queued"
    assert run_rows.cancel_requested(db, run_id)
    run_rows.finish(db, run_id, "cancelled")
    assert run_rows.request_cancel(db, run_id) == "cancelled"
    with pytest.raises(KeyError):
        run_rows.request_cancel(db, 999)


def test_a_dataset_version_comes_back_as_it_went_in(db):
    frame = make_frame(n_series=3, periods=60, exog=True)
    frame["store"] = frame["unique_id"].map({"s0": 1, "s1": 2, "s2": 2})
    outliers = frame.iloc[[5, 70]][["unique_id", "ds", "y"]]
    last = frame.groupby("unique_id")["ds"].max()
    plan = pd.DataFrame(
        {
            "unique_id": np.repeat(last.index, 2),
            "ds": np.concatenate(
                [[d + pd.Timedelta(days=1), d + pd.Timedelta(days=2)] for d in last]
            ),
            "promo": [1.0, 0.0] * len(last),
        }
    )
    dataset_id = save_dataset(
        db,
        frame=frame,
        info={
            "source_name": "x.csv",
            "sha256": "0" * 64,
            "mapping": {"date": "ds"},
            "freq": "D",
            "country": "US",
            "cleaning": {"gaps_filled": 0},
        },
        key_columns=["store"],
        exog=["promo"],
        outliers=outliers,
        plan=plan,
    )
    stored = load_dataset(db, dataset_id)
    assert stored.info["series"] == 3 and stored.info["rows"] == 180
    # the plan comes back apart from the history, with its values
    assert len(stored.frame) == 180 and stored.plan is not None
    got_plan = stored.plan.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    assert got_plan[["unique_id", "ds"]].equals(plan[["unique_id", "ds"]])
    assert got_plan["promo"].tolist() == plan["promo"].tolist()
    assert stored.info["exog"] == ["promo"] and stored.info["attributes"] == ["store"]
    got = stored.frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    want = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_series_equal(got["y"], want["y"])
    pd.testing.assert_series_equal(got["promo"], want["promo"], check_dtype=False)
    assert (got["ds"] == want["ds"]).all()
    assert got["store"].tolist() == want["store"].tolist()
    assert got["is_outlier"].sum() == 2
    keys = series_keys(db, dataset_id).set_index("unique_id")
    assert keys.loc["s1", "store"] == 2
    # read a partition of whole series at a time (60 rows each), it is the same frame
    for rows, sizes in ((130, [2, 1]), (60, [1, 1, 1]), (10, [1, 1, 1]), (10**6, [3])):
        parts = list(dataset_parts(db, dataset_id, rows))
        assert [p["unique_id"].nunique() for p in parts] == sizes
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), stored.frame)
    assert (
        keys["total"].round(6).to_dict() == want.groupby("unique_id")["y"].sum().round(6).to_dict()
    )


def test_a_version_is_stored_with_its_sums_per_period_for_the_total_and_large_groups(
    db, monkeypatch
):
    """A page draws a large group's sums from these, not from every row (issue 30); the
    database's own sums, for a small group or a version stored before them, agree."""
    monkeypatch.setattr(period_sums, "MIN_MEMBERS", 2)
    frame = make_frame(n_series=4, periods=30)
    frame["store"] = frame["unique_id"].map({"s0": 1, "s1": 2, "s2": 2, "s3": 3})
    frame = frame.loc[~((frame["unique_id"] == "s3") & (frame.index % 30 < 10))]  # a launch
    filled = frame.loc[frame["unique_id"] == "s1"].iloc[[3, 4]][["unique_id", "ds"]]
    parts = [frame.loc[frame["unique_id"].isin(ids)] for ids in (["s0", "s1"], ["s2", "s3"])]
    dataset_id = save_dataset(
        db,
        frame=iter(parts),  # stored a partition at a time, as a catalogue is
        info={
            "source_name": "x.csv",
            "sha256": "1" * 64,
            "mapping": {},
            "freq": "D",
            "cleaning": {},
        },
        key_columns=["store"],
        exog=[],
        filled=filled,
    )
    for scope, ids in (("", ["s0", "s1", "s2", "s3"]), ("store=2", ["s1", "s2"])):
        rows = frame.loc[frame["unique_id"].isin(ids)]
        want = rows.groupby("ds")["y"].agg(["sum", "size"])
        got = stored_sums(db, dataset_id, scope).set_index("ds")
        assert np.allclose(got["y"], want["sum"]) and (got["members"] == want["size"]).all()
        assert got["filled"].sum() == 2 and got["filled"].max() == 1
        made_up = frame.loc[filled.index, "y"].sum()  # what the gap rule wrote there
        assert got["filled_y"].sum() == pytest.approx(made_up)
        asked = None if scope == "" else ids
        summed = summed_in_database(db, dataset_id, asked).set_index("ds")
        pd.testing.assert_frame_equal(summed, got, check_dtype=False)
    assert stored_sums(db, dataset_id, "store=3") is None  # one series: summed when asked
    three = summed_in_database(db, dataset_id, ["s3"])
    assert three["members"].tolist() == [1] * 20 and three["ds"].min() == pd.Timestamp("2022-01-17")
    one = series_rows(db, dataset_id, "s1")
    assert len(one) == 30 and one["is_filled"].sum() == 2 and one["ds"].is_monotonic_increasing
    delete_dataset(db, dataset_id)
    assert stored_sums(db, dataset_id, "") is None


def test_a_removed_version_s_id_is_never_given_again(db):
    """A cancelled run's version 3 was removed, a killed run's version 3 too, and the next
    upload became version 3 again: three files under one number in the runs' logs."""
    frame = make_frame(n_series=1, periods=30)
    info = {
        "source_name": "x.csv", "sha256": "0" * 64, "mapping": {}, "freq": "D",
        "country": None, "cleaning": {},
    }  # fmt: skip

    def store() -> int:
        return save_dataset(db, frame=frame, info=info, key_columns=[], exog=[])

    first, second = store(), store()
    delete_dataset(db, second)
    third = store()
    assert first < second < third


def test_forecasts_round_trip(db, monkeypatch):
    run_id = run_rows.create_run(db, "train", {})
    frame = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b"],
            "ds": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-01"]),
            "yhat": [1.0, 2.0, 3.0],
            "lo80": [0.5, 1.5, 2.5],
            "hi80": [1.5, 2.5, 3.5],
            "lo95": [0.0, 1.0, 2.0],
            "hi95": [2.0, 3.0, 4.0],
            "model": ["m", "m", "m"],
        }
    )
    assert save_forecasts(db, run_id, frame) == 3
    got = stored_forecasts(db, run_id, series=["a"])
    assert got["yhat"].tolist() == [1.0, 2.0]
    assert got["hi95"].tolist() == [2.0, 3.0]
    # a series' id is one string shared by its rows, read in chunks (every web worker
    # holds the serving run's stored forecast: 617 MB for 1.1 million rows, each row
    # with its own strings), and a missing model reads None as before
    monkeypatch.setattr(results, "FORECAST_ROWS", 2)
    save_forecasts(db, run_id, frame.drop(columns="model").assign(unique_id="c"))
    every = stored_forecasts(db, run_id)
    assert len(every) == 6 and every["unique_id"].tolist() == ["a", "a", "b", "c", "c", "c"]
    assert len({id(uid) for uid in every["unique_id"]}) == 3
    assert every["model"].tolist() == ["m", "m", "m", None, None, None]
    assert str(every["ds"].dtype).startswith("datetime64")
    # one row's model missing is stored missing, not as the text "None"
    save_forecasts(db, run_id, frame.assign(unique_id="d", model=["m", None, np.nan]))
    assert stored_forecasts(db, run_id, series=["d"])["model"].tolist() == ["m", None, None]


def test_artifacts_appear_whole_or_not_at_all(tmp_path):
    store = ArtifactStore(tmp_path / "models")
    path = store.save(7, {"serving": {"weights": [1, 2, 3]}})
    assert path == tmp_path / "models" / "7"
    assert store.load(7, "serving") == {"weights": [1, 2, 3]}
    with pytest.raises(FileExistsError):
        store.save(7, {"serving": 1})

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(RuntimeError):
        store.save(8, {"a": 1, "b": Unpicklable()})
    assert not store.path(8).exists()
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["7"]
    (tmp_path / "models" / ".partial-9-abc").mkdir()  # as a kill -9 mid-write leaves it
    (tmp_path / "models" / ".partial-10-def").mkdir()  # run 10 is saving right now
    (store.path(7) / ".partial-7-xyz").write_bytes(b"half")  # killed mid-replace
    assert len(store.remove_partial(writing=(10,))) == 2
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [".partial-10-def", "7"]
    assert [p.name for p in store.path(7).iterdir()] == ["serving.pkl"]
    store.remove_partial()  # run 10 ended without publishing: its directory goes too
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["7"]
    with pytest.raises(FileNotFoundError, match="no stored"):
        store.load(9, "serving")


def test_artifacts_stored_with_joblib_before_are_read_and_replaced_in_their_format(tmp_path):
    """Runs stored before the store wrote pickles keep loading, and a step that writes one
    of their objects again keeps its format (no second file beside it)."""
    store = ArtifactStore(tmp_path / "models")
    store.path(3).mkdir(parents=True)
    joblib.dump({"series": np.arange(4)}, store.path(3) / "series.joblib")
    assert store.load(3, "series")["series"].tolist() == [0, 1, 2, 3]
    store.replace(3, "series", {"series": np.arange(2)})
    assert [p.name for p in store.path(3).iterdir()] == ["series.joblib"]
    assert store.load(3, "series")["series"].tolist() == [0, 1]
    store.save(4, {"series": np.arange(3)})
    store.replace(4, "series", np.arange(5))
    assert [p.name for p in store.path(4).iterdir()] == ["series.pkl"]
    assert store.load(4, "series").tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(FileNotFoundError, match="no stored 'effects'"):
        store.replace(4, "effects", {})


def test_run_rows_hold_what_runs_json_shows(db):
    run_id = run_rows.create_run(db, "run", {"horizon": 14})
    run_rows.claim(db, run_id)
    run_rows.report(db, run_id, 0.42, "tuning xgboost", step="train")
    row = run_reads.get_run(db, run_id)
    assert row["status"] == "running" and row["step"] == "train" and row["progress"] == 0.42
    assert row["started_at"] and row["options"] == {"horizon": 14}
    with db.session() as s:
        assert s.scalar(select(Run.owner).where(Run.id == run_id)).count(":") == 2


def test_four_processes_migrating_a_fresh_database_at_once_all_succeed(database_url):
    """gunicorn's workers on a fresh data directory each migrate as they boot (two at once
    both created the first table before the migration took a lock)."""
    import subprocess
    import sys

    code = "import sys; from storage.database import Database; Database(sys.argv[1]).migrate()"
    workers = [
        subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [w.communicate(timeout=120)[1].decode()[-500:] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], errors
    assert Database(database_url).ping()


def test_rows_stored_in_bulk_are_stored_as_sqlalchemy_stores_them(db):
    """The bulk path (COPY on PostgreSQL, the driver's executemany on SQLite) binds each
    value as SQLAlchemy does: the same text for a date on SQLite, NULL for a missing band
    or model, and a query on the dates finds the rows."""
    run_id = run_rows.create_run(db, "train", {})
    when = pd.Timestamp("2025-03-01 13:45:30.250000")
    frame = pd.DataFrame(
        {
            "unique_id": ["bulk"], "ds": [when], "yhat": [1.5], "lo80": [np.nan],
            "hi80": [2.0], "lo95": [0.5], "hi95": [3.0],
        }
    )  # fmt: skip
    save_forecasts(db, run_id, frame)
    with db.session() as s:
        s.add(
            ForecastPoint(
                run_id=run_id, unique_id="orm", ds=when.to_pydatetime(), yhat=1.5, lo80=None,
                hi80=2.0, lo95=0.5, hi95=3.0, model=None,
            )
        )  # fmt: skip
    with db.session() as s:
        raw = s.execute(
            text("SELECT unique_id, ds, yhat, lo80, hi80, model FROM forecasts ORDER BY unique_id")
        ).all()
        found = s.execute(
            select(ForecastPoint.unique_id).where(
                ForecastPoint.ds.between(when - pd.Timedelta(seconds=1), when)
            )
        ).scalars()
        assert sorted(found) == ["bulk", "orm"]
    (bulk, orm) = raw
    assert tuple(bulk)[1:] == tuple(orm)[1:]
    assert bulk[3] is None and bulk[5] is None  # NULL, not NaN or the text "None"
