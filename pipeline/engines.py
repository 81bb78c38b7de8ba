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
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import joblib

from forecasting.errors import DataError

log = logging.getLogger(__name__)

#: ``auto``: Dask when ``DASK_SCHEDULER_ADDRESS`` is set, else local processes
ENGINES = ("auto", "local", "dask")
#: seconds to reach a Dask scheduler before the run fails with the reason
CONNECT_SECONDS = 30
#: seconds for the scheduler's port to answer at all
KNOCK_SECONDS = 3.0
#: seconds a cluster may have no worker at all before the run stops with the reason
NO_WORKERS_SECONDS = 60
#: seconds between two looks at the cluster's workers
WATCH_SECONDS = 2.0


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
            _knock(scheduler)
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
        if not scheduler:
            raise DataError(
                f"A local Dask cluster could not be started ({exc}); run with --engine local."
            ) from None
        raise DataError(
            f"The Dask scheduler at {scheduler} cannot be reached ({exc}). Start it, fix "
            "DASK_SCHEDULER_ADDRESS, or run with --engine local."
        ) from None
    watch = _WorkersWatch(client, NO_WORKERS_SECONDS)
    watch.start()
    try:
        # joblib's own wait for a first worker, as patient as the watch
        with joblib.parallel_config(backend="dask", wait_for_workers_timeout=NO_WORKERS_SECONDS):
            yield where
    except (KeyboardInterrupt, TimeoutError) as exc:
        if not (watch.fired or "has no worker" in str(exc)):
            raise
        raise DataError(
            f"{where[0].upper()}{where[1:]} has had no worker for {NO_WORKERS_SECONDS} s, "
            "so the run stopped. Start Dask workers, or run with --engine local."
        ) from None
    finally:
        watch.stop.set()
        client.close()
        if cluster is not None:
            cluster.close()


def _knock(address: str) -> None:
    """Fail at once where nothing listens (Dask's client would retry for its whole
    timeout); an address that answers gets the client's patience."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp" or not parts.hostname or not parts.port:
        return  # another transport: the client judges it
    with socket.create_connection((parts.hostname, parts.port), timeout=KNOCK_SECONDS):
        pass


class _WorkersWatch(threading.Thread):
    """A cluster left without workers would leave the run waiting for ever: after
    ``patience`` seconds without one, interrupt the run's main thread (Dask itself runs a
    lost worker's tasks again on the others, so one lost worker is no reason to stop)."""

    def __init__(self, client, patience: float) -> None:
        super().__init__(name="dask-workers-watch", daemon=True)
        self.client, self.patience = client, patience
        self.stop = threading.Event()
        self.fired = False

    def run(self) -> None:
        alone_since = None
        while not self.stop.wait(WATCH_SECONDS):
            try:
                workers = len(self.client.scheduler_info(n_workers=-1)["workers"])
            except Exception:  # the scheduler away: no worker can be reached either
                workers = 0
            if workers:
                alone_since = None
                continue
            alone_since = alone_since or time.monotonic()
            if time.monotonic() - alone_since > self.patience:
                log.error("no Dask worker for %.0f s: stopping the run", self.patience)
                self.fired = True
                # a real signal: it also wakes a main thread blocked waiting on a lock
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                return
