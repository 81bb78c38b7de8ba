"""The run's progress bar: each step fills its planned share, and the bar never moves back;
the time left is estimated from the share done, and shrinks as the run goes."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from forecasting.progress import Pacing
from pipeline.context import RunContext
from storage import run_reads, run_rows
from storage.database import Database
from storage.tables import Run, utcnow


@pytest.fixture
def context(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'runs.db'}")
    db.migrate()
    run_id = run_rows.create_run(db, "run", {})
    seen: list[float] = []
    ctx = RunContext(db, None, run_id, logging.getLogger("test"), lambda p, _m: seen.append(p))
    return ctx, seen


def test_steps_fill_their_planned_share_and_the_bar_only_moves_forward(context):
    ctx, seen = context
    ctx.plan({"ingest": 1.0, "eda": 1.0, "train": 6.0, "forecast": 2.0})
    for name in ("ingest", "eda", "train", "forecast"):
        with ctx.step(name) as reporter:
            ctx.report(0.5, f"{name} half way")  # what the ingest and eda steps do
            validation = ctx.reporter(0.0, 0.8)  # what the train step hands the library
            validation.report(0.0)
            validation.report(1.0)
            reporter.report(0.3)  # a late report for work already passed
    assert seen == sorted(seen), "the bar moved backwards"
    assert seen[1] == pytest.approx(0.05)  # half of ingest's tenth
    assert pytest.approx(0.2 + 0.8 * 0.6) in seen  # train is 60% of the bar, from 20%
    assert seen[-1] == 1.0
    assert run_reads.get_run(ctx.db, ctx.run_id)["progress"] == 1.0


def test_a_new_plan_shares_what_is_left_among_the_steps_to_come(context):
    ctx, seen = context
    ctx.plan({"ingest": 1.0, "train": 1.0})
    with ctx.step("ingest"):
        ctx.report(1.0)
        ctx.plan({"ingest": 1.0, "train": 3.0})  # ingest found the data bigger than guessed
    with ctx.step("train"):
        ctx.report(0.5)
        assert seen[-1] == pytest.approx(0.75)  # the train step has all of the second half


def test_the_pacing_weighs_its_parts_by_their_expected_seconds():
    reported: list[float] = []
    from forecasting.progress import Reporter

    pacing = Pacing(Reporter(lambda v, _m: reported.append(v)), {"cheap": 1.0, "dear": 9.0})
    pacing.part("cheap").report(1.0)
    assert reported[-1] == pytest.approx(0.1)
    pacing.part("dear").report(0.5)
    assert reported[-1] == pytest.approx(0.55)
    pacing.add("kept after a screen", 10.0)  # the pacing grows: the share done shrinks
    pacing.part("dear").report(1.0)
    assert reported[-1] == pytest.approx(0.5)


def test_the_time_left_is_present_and_shrinks_as_the_run_goes(context, monkeypatch):
    ctx, _ = context
    clock = {"now": 1000.0}
    monkeypatch.setattr(time, "monotonic", lambda: clock["now"])
    ctx._began = 1000.0
    ctx.plan({"train": 1.0})
    estimates = []
    with ctx.step("train"):
        for done in (0.1, 0.3, 0.5, 0.8):
            clock["now"] += 10.0  # the work goes at an even pace: 10 s per 10-30%
            ctx.report(done, force=True)
            estimates.append(run_reads.get_run(ctx.db, ctx.run_id)["eta_seconds"])
    assert all(e is not None for e in estimates)
    assert estimates == sorted(estimates, reverse=True), estimates
    # at 50% after 30 s the rest is expected to take as long again
    assert estimates[2] == pytest.approx(30, abs=1)
    assert run_reads.get_run(ctx.db, ctx.run_id)["eta_seconds"] is None  # ended: nothing left


def test_the_time_left_never_reads_zero_while_work_remains(context):
    ctx, _ = context
    db, run_id = ctx.db, ctx.run_id
    with db.session() as s:
        run = s.get(Run, run_id)
        now = utcnow()
        run.status = "running"
        run.started_at = now - timedelta(seconds=68)
        run.progress = 0.68
        # the last estimate, written before one long computation, has run out
        run.expected_end = now - timedelta(seconds=30)
    left = run_reads.get_run(db, run_id)["eta_seconds"]
    # 68 s for 68%: about 32 s more at that pace, never 0
    assert left == pytest.approx(32, abs=2)


def test_the_page_hears_what_is_being_done_until_the_next_thing_starts(context):
    """A new message reaches the run's row at once, however soon after the last write;
    a report without words leaves the last words in place."""
    ctx, _ = context
    with ctx.step("train"):
        reporter = ctx.reporter()
        for name in ("naive", "ets", "theta"):
            reporter.report(0.0, f"validating {name}")
            assert run_reads.get_run(ctx.db, ctx.run_id)["message"] == f"validating {name}"
            time.sleep(0.6)  # past the throttle: the wordless report below is written
            reporter.report(1.0)
            assert run_reads.get_run(ctx.db, ctx.run_id)["message"] == f"validating {name}"
