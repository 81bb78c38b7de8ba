"""``python -m dashapp worker``: the pages' background jobs on Celery (``REDIS_URL``).

With Redis, the app's background callbacks (Start: submit the run through the front
door, then follow it) are Celery tasks that Dash registers while the app is built;
this process builds the same app and serves those tasks from the pages' queue. The
jobs only wait on the database, so one process serves many at once (threads); the
runs themselves go to ``python -m pipeline worker``.
"""

from __future__ import annotations

import os

from storage.settings import Settings

#: background jobs served at once: each follows one run from one tab
CONCURRENCY = 8


def serve(settings: Settings) -> None:
    if not settings.redis_url:
        raise SystemExit(
            "REDIS_URL is not set: the pages' worker takes its jobs from Redis, e.g. "
            "REDIS_URL=redis://localhost:6379/0 python -m dashapp worker"
        )
    from dashapp import create_app
    from pipeline.workers import PAGES_QUEUE, celery_app

    create_app()  # registers the background callbacks as tasks of the deployment's app
    celery_app(settings.redis_url).worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={CONCURRENCY}",
            f"--queues={PAGES_QUEUE}",
            "--loglevel=INFO",
            f"--hostname=pages-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )
