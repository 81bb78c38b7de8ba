"""Open the system of record: settings, a migrated database, recovery after a crash.

Every entry point (the command line, the web app) calls ``open_system``
first, so a run whose processes died is marked failed (and any helper it left
behind stopped), and half-written model directories are swept, before
anything else happens.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.leftovers import on_abandoned
from storage.artifacts import ArtifactStore
from storage.database import Database
from storage.run_rows import active_run_id, recover_abandoned
from storage.settings import Settings, load_settings

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)


@dataclass
class System:
    settings: Settings
    db: Database
    recovered: list[int] = field(default_factory=list)

    @property
    def artifacts(self) -> ArtifactStore:
        return ArtifactStore(self.settings.models_dir)


def open_system(settings: Settings | None = None, tracking: bool = False) -> System:
    """The migrated, recovered system; with ``tracking`` the MLflow and Optuna stores too."""
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url())
    db.migrate()
    recovered = recover_abandoned(
        db, on_abandoned=on_abandoned(db, settings), stale_after=settings.stall_window
    )
    for run_id in recovered:
        log.warning("run %d was left running by a process that died; marked failed", run_id)
    # a run alive on another process (a run worker) may be writing its model right now
    running = active_run_id(db)
    ArtifactStore(settings.models_dir).remove_partial(writing=() if running is None else (running,))
    if tracking:
        from pipeline.tracking import init_store

        init_store(settings)
        create_study_store(settings)
    return System(settings, db, recovered)


def optuna_storage(settings: Settings) -> optuna.storages.RDBStorage:
    """The study store, with a connection timeout so a dashboard reading it never fails a run."""
    import optuna  # a second to import: only runs that tune and the dashboards' setup need it

    url = settings.resolved_optuna_storage()
    kwargs = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
    return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)


def create_study_store(settings: Settings) -> None:
    """Create Optuna's tables: the Optuna dashboard refuses a store without them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    optuna_storage(settings).engine.dispose()


if __name__ == "__main__":
    # ``python -m pipeline.system [studies]``: create the stores before dashboards open them
    if sys.argv[1:] == ["studies"]:
        create_study_store(load_settings())
    else:
        open_system(tracking=True).db.dispose()
