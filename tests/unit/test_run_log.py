"""Run logs: timestamped lines in DATA_DIR/logs/<run_id>.log, tailed by byte offset."""

from __future__ import annotations

import logging
import re

from pipeline.runlog import log_path, read_log, run_logging


def test_run_log_captures_the_run_and_the_library_with_timestamps(tmp_path):
    with run_logging(tmp_path, 3) as log:
        log.info("run started")
        logging.getLogger("forecasting.evaluation.tuning").info("xgboost: trial 1/5")
        logging.getLogger("unrelated").warning("not ours")
    logging.getLogger("forecasting.evaluation.tuning").info("after the run")
    lines = log_path(tmp_path, 3).read_text().splitlines()
    assert len(lines) == 2
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO run started$", lines[0])
    assert lines[1].endswith("INFO xgboost: trial 1/5")


def test_reading_by_offset_returns_whole_lines_only(tmp_path):
    path = log_path(tmp_path, 1)
    path.write_bytes(b"first line\nsecond li")
    text, offset = read_log(tmp_path, 1, 0)
    assert text == "first line\n" and offset == len(b"first line\n")
    assert read_log(tmp_path, 1, offset) == ("", offset)  # the half line waits
    with open(path, "ab") as handle:
        handle.write("ne \u00e9\nthird\n".encode())
    text, offset2 = read_log(tmp_path, 1, offset)
    assert text == "second line \u00e9\nthird\n"
    assert offset2 == path.stat().st_size
    assert read_log(tmp_path, 2, 0) == ("", 0)  # no log yet


def test_an_offset_past_the_end_of_the_log_reads_nothing_new(tmp_path):
    path = log_path(tmp_path, 7)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("one line\n")
    assert read_log(tmp_path, 7, 4611686018427387903) == ("", 4611686018427387903)
    assert read_log(tmp_path, 7, 0) == ("one line\n", 9)


def test_a_failed_run_says_the_database_s_own_words_and_where_not_sqlalchemy_s_dump():
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from pipeline.execution import failure_reason

    error = OperationalError(
        "INSERT INTO observations (dataset_id, ds) VALUES (?, ?)",
        [(1, "2024-01-01")],
        sqlite3.OperationalError("database is locked"),
    )
    reason = failure_reason(error, "ingest")
    assert reason == (
        "The database failed during step ingest: OperationalError: database is locked "
        "(the traceback is in the run's log)"
    )
    assert "INSERT" not in reason and "sqlalche.me" not in reason
    long = failure_reason(ValueError("x" * 1000 + "\nsecond line"), "train")
    assert long.startswith("ValueError during step train: xxx") and "second line" not in long
    assert len(long) < 450
    assert "ran out of memory during step train" in failure_reason(MemoryError(), "train")
