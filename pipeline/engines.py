"""Where a run's per-series fits execute: local processes, or a Dask cluster.

Every per-series fit, validation and forecast goes through joblib
(``forecasting.models.local``: batches of whole series), so the engine is the
joblib backend the run holds: joblib's own process pool on this machine (the
embedded default), or joblib's documented Dask backend, whose batches run as
tasks on Dask workers: those of the cluster at ``DASK_SCHEDULER_ADDRESS``, or of
a ``LocalCluster`` that ``--engine dask`` starts for the run (its processes are
the run's children, so they end with it). Results come back per series, so the
forecasts do not depend on the engine. The global tree models fit in the run's own
process either way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import joblib

from forecasting.errors import DataError

log = logging.getLogger(__name__)

#: ``auto``: Dask when ``DASK_SCHEDULER_ADDRESS`` is set, else local processes
ENGINES = ("auto", "local", "dask")
#: seconds to reach a Dask scheduler before the run fails with the reason
CONNECT_SECONDS = 30


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise DataError(f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")


@contextmanager
def fits_on(engine: str, jobs: int, scheduler: str | None) -> Iterator[str]:
    """Hold the engine for the block; yields what it is, in words for the run's log."""
    check_engine(engine)
    if engine == "local" or (engine == "auto" and not scheduler):
        with joblib.parallel_config(n_jobs=jobs):
            yield "local processes"
        return
    from dask.distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout=CONNECT_SECONDS)
            where = f"the Dask cluster at {scheduler}"
        else:
            workers = jobs if jobs > 0 else os.cpu_count() or 1
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
            where = f"a local Dask cluster of {workers} workers"
    except OSError as exc:  # no scheduler there, or it did not answer in time
        raise DataError(
            f"The Dask scheduler at {scheduler} cannot be reached ({exc}). Start it, fix "
            "DASK_SCHEDULER_ADDRESS, or run with --engine local."
        ) from None
    try:
        with joblib.parallel_config(backend="dask"):
            yield where
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
