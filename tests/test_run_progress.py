"""The run's progress bar: each step fills its own share, and the bar never moves back."""

from __future__ import annotations

import logging

from pipeline.context import RunContext
from pipeline.options import RunOptions
from storage import runs
from storage.database import Database


def test_steps_report_within_their_share_and_the_bar_only_moves_forward(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'runs.db'}")
    db.migrate()
    run_id = runs.create_run(db, "run", {})
    seen: list[float] = []
    ctx = RunContext(db, None, run_id, logging.getLogger("test"), lambda p, _m: seen.append(p))
    slices = RunOptions(kind="run", csv="x.csv").progress_slices()
    for name in ("ingest", "eda", "train", "forecast"):
        with ctx.step(name, *slices[name]) as reporter:
            ctx.report(0.5, f"{name} half way")  # what the ingest and eda steps do
            validation = ctx.reporter(0.0, 0.8)  # what the train step hands the library
            validation.report(0.0)
            validation.report(1.0)
            reporter.report(0.3)  # a late report for work already passed
    assert seen == sorted(seen), "the bar moved backwards"
    ingest_start, ingest_end = slices["ingest"]
    assert seen[1] == ingest_start + 0.5 * (ingest_end - ingest_start)
    train_start, train_end = slices["train"]
    assert train_start + 0.8 * (train_end - train_start) in seen
    assert seen[-1] == 1.0
    assert runs.get_run(db, run_id)["progress"] == 1.0
