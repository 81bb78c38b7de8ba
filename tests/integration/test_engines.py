"""Fits on a Dask cluster give the forecasts of local processes (issue 30): the cluster
that ``--engine dask`` starts for a run, and one already running
(``DASK_SCHEDULER_ADDRESS``)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from dask.distributed import LocalCluster
from joblib import Parallel, delayed

from forecasting.errors import DataError
from forecasting.workflow import TrainOptions, backtest
from pipeline import engines
from pipeline.engines import fits_on
from tests.support.frames import make_frame, spec_for

#: seasonal naive and the statsforecast family: deterministic, so equal to the last digit
MODELS = ("seasonal_naive", "ets", "theta", "ces")


def _forecasts(df: pd.DataFrame, engine: str, scheduler: str | None = None):
    with fits_on(engine, 2, scheduler) as where:
        report = backtest(df, spec_for("D"), 14, TrainOptions(models=MODELS, n_windows=2))
    return where, report.outcome.per_model.sort_values(["unique_id", "ds"], ignore_index=True)


def test_a_dask_cluster_gives_the_forecasts_of_local_processes():
    df = make_frame(n_series=4, periods=240)
    where, local = _forecasts(df, "local")
    assert where == "local processes"
    where, own = _forecasts(df, "dask")
    assert where == "a local Dask cluster of 2 workers"
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        where, shared = _forecasts(df, "auto", cluster.scheduler_address)
        ran = cluster.scheduler.transition_counter
    assert where == f"the Dask cluster at {cluster.scheduler_address}"
    assert ran > 0  # the series' batches ran as tasks on that cluster
    assert set(MODELS) <= set(local.columns)
    pd.testing.assert_frame_equal(own, local)
    pd.testing.assert_frame_equal(shared, local)


def test_a_cluster_left_without_workers_stops_the_run_with_the_reason(monkeypatch):
    """Dask runs a lost worker's tasks again elsewhere; with none left it would wait for
    ever, so the run stops with what to do."""
    monkeypatch.setattr(engines, "NO_WORKERS_SECONDS", 2)
    monkeypatch.setattr(engines, "WATCH_SECONDS", 0.5)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        away = r"has had no worker for 2 s, so the run stopped\. Start Dask workers"
        with pytest.raises(DataError, match=away), fits_on("auto", 1, address):
            cluster.scale(0)
            while cluster.scheduler.workers:  # retired: the tasks below wait for a worker
                time.sleep(0.1)
            Parallel(n_jobs=2)(delayed(sum)([i, 1]) for i in range(4))


def test_an_unknown_engine_or_an_unreachable_scheduler_says_what_to_do():
    unknown = "Unknown engine 'spark'; use one of auto, local, dask"
    with pytest.raises(DataError, match=unknown), fits_on("spark", 1, None):
        pass
    away = r"tcp://127.0.0.1:9 cannot be reached .*--engine local"
    with pytest.raises(DataError, match=away), fits_on("auto", 1, "tcp://127.0.0.1:9"):
        pass
