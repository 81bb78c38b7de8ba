"""Runs on Celery workers, past one machine.

With ``REDIS_URL`` set, the front door (``pipeline/runs.py``) queues a stored run
here instead of starting a detached supervisor beside the web app, and a
``python -m pipeline worker`` process (any number, on any host that sees the
database, the artifact store and ``DATA_DIR``) takes it and supervises it exactly
as the detached supervisor would: the run still executes in a fresh
``python -m pipeline execute ID`` child, so progress, time left, cancel, the live
log and the one-run rule are the database's, as before. The pages' background
jobs share this Celery app on a queue of their own (Dash's ``CeleryManager``,
served by ``python -m dashapp worker``), so a long run never waits behind a page.

A worker takes one run at a time (Celery's solo pool): the task's process is the
run's supervisor, so a ``kill -9`` of the worker takes the run's processes with it
(parent-death signal) and the other workers' sweep marks the run failed, at once
on the same host and within the stall window (``RUN_STALL_SECONDS``) elsewhere.

Celery and Redis are imported only here and only when ``REDIS_URL`` is set: the
embedded default neither needs nor loads them.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from storage.database import Database
from storage.run_rows import Owner, recover_abandoned
from storage.settings import Settings

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)

RUN_TASK = "pipeline.execute_run"
#: the queue run workers take runs from; the pages' background jobs use ``PAGES_QUEUE``
RUNS_QUEUE = "runs"
PAGES_QUEUE = "pages"
#: seconds between a worker's looks for runs whose process died
SWEEP_SECONDS = 5.0
#: seconds to wait for Redis before telling the caller it is away
CONNECT_SECONDS = 2.0


class QueueUnavailable(Exception):
    """``REDIS_URL`` is set and Redis does not answer: nothing was started (HTTP 503)."""


def where(redis_url: str) -> str:
    """The broker's address without its password, for messages."""
    parts = urlsplit(redis_url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


def check_reachable(settings: Settings) -> None:
    """Raise ``QueueUnavailable`` when runs go to workers and Redis does not answer."""
    if not settings.redis_url:
        return
    import redis

    client = redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=CONNECT_SECONDS,
        socket_timeout=CONNECT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise QueueUnavailable(
            f"The run queue (Redis at {where(settings.redis_url)}) does not answer ({exc}); "
            "nothing was started. Start Redis and try again, or unset REDIS_URL to run "
            "on this machine."
        ) from None
    finally:
        client.close()


@functools.cache
def celery_app(redis_url: str) -> Celery:
    """The one Celery app of a deployment: runs on ``RUNS_QUEUE``, pages' jobs on the rest."""
    from celery import Celery

    app = Celery("salesforecast", broker=redis_url, backend=redis_url)
    app.conf.update(
        task_default_queue=PAGES_QUEUE,
        task_routes={RUN_TASK: {"queue": RUNS_QUEUE}},
        # a worker holds no run it has not started: a second worker takes the next one
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # a worker waits out a Redis outage of any length instead of exiting
        broker_connection_max_retries=None,
        broker_transport_options={"socket_connect_timeout": CONNECT_SECONDS},
        redis_socket_connect_timeout=CONNECT_SECONDS,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2},
    )
    app.task(name=RUN_TASK, ignore_result=True)(_execute_run)
    return app


def enqueue(settings: Settings, run_id: int) -> None:
    """Hand a stored, queued run to the run workers."""
    assert settings.redis_url
    celery_app(settings.redis_url).send_task(RUN_TASK, args=[run_id], queue=RUNS_QUEUE)


def _execute_run(run_id: int) -> None:
    """The task: this worker process supervises the run (the run executes in its child)."""
    from pipeline.supervision import supervise
    from storage.settings import load_settings

    log.info("run %d taken by %s", run_id, Owner.current())
    supervise(load_settings(), run_id)


def serve(settings: Settings) -> None:
    """``python -m pipeline worker``: take runs from Redis until stopped (SIGTERM)."""
    if not settings.redis_url:
        raise SystemExit(
            "REDIS_URL is not set: a run worker takes its runs from Redis, e.g. "
            "REDIS_URL=redis://localhost:6379/0 python -m pipeline worker"
        )
    from pipeline.system import open_system

    open_system(settings).db.dispose()  # the schema exists, and crashes before now are marked
    stop = threading.Event()
    sweeper = threading.Thread(
        target=_sweep_abandoned, args=(settings, stop), name="abandoned-runs", daemon=True
    )
    sweeper.start()
    try:
        celery_app(settings.redis_url).worker_main(
            [
                "worker",
                "--pool=solo",
                f"--queues={RUNS_QUEUE}",
                "--loglevel=INFO",
                f"--hostname=runs-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        stop.set()


def _sweep_abandoned(settings: Settings, stop: threading.Event) -> None:
    """Mark runs whose process died as failed: a killed worker cannot mark its own."""
    from pipeline.leftovers import on_abandoned

    db = Database(settings.resolved_database_url())
    stale = settings.stall_window
    clear = on_abandoned(db, settings)

    while not stop.wait(SWEEP_SECONDS):
        try:
            for run_id in recover_abandoned(db, on_abandoned=clear, stale_after=stale):
                log.warning("run %d lost its process (a worker died?); marked failed", run_id)
        except Exception:  # the database away for a moment: look again at the next sweep
            log.exception("the sweep for abandoned runs failed")
