"""What serves in this process: the serving run, its model and its data set, cached.

A web worker reads the serving model once and keeps it; which run serves is
asked again only after the database changed (``Database.data_version``), so a
promotion is picked up at the next request. Data set versions never change, so
the latest one read is kept as it is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import pandas as pd

from forecasting.data.frequency import frequency_from_alias
from forecasting.serving.model import ServingModel
from forecasting.serving.requests import StoredForecast
from forecasting.serving.series_facts import driver_tail
from pipeline.serving.errors import NoDataSet, NothingServes
from pipeline.serving_store import load_serving
from pipeline.stored import resolve_dataset, resolve_dataset_info
from pipeline.system import System
from storage import run_reads
from storage.datasets import latest_dataset_id, series_keys
from storage.results import stored_forecasts


@dataclass
class ServingRun:
    """The serving run as read once: its row, model, data set and stored forecast."""

    run: dict
    serving: ServingModel
    dataset_id: int
    keys: pd.DataFrame
    stored: StoredForecast
    #: per series: ladder step, demand class, what serves it (read on first ask)
    series: pd.DataFrame | None = None


@dataclass(frozen=True)
class DatasetShown:
    """A data set version as the pages know it: its series and season. Its rows are read
    per scope when drawn (``storage.period_sums``), never kept: a web worker held every
    row, 641 MB at 10,000 daily series."""

    dataset_id: int
    keys: pd.DataFrame
    #: periods of the data set's season (its outliers are judged after it)
    season_length: int = 1


class ServingCache:
    """The per-process memory of what serves; every read goes through one of these."""

    def __init__(self, system: System):
        self.system = system
        self._lock = threading.Lock()
        self._serving_run: ServingRun | None = None
        #: (database version, serving run id) last seen
        self._seen: tuple[int | None, int | None] = (None, None)
        self._dataset: dict[int, DatasetShown] = {}

    def run_id(self) -> int | None:
        """The serving run; remembered until the database changes (SQLite)."""
        version = self.system.db.data_version()
        seen_version, seen_id = self._seen
        if version is not None and version == seen_version:
            return seen_id
        run_id = run_reads.production_run_id(self.system.db)
        self._seen = (version, run_id)
        return run_id

    def serves(self) -> bool:
        return self.run_id() is not None

    def serving_run(self) -> ServingRun:
        run_id = self.run_id()
        if run_id is None:
            raise NothingServes("No model serves yet: train one first.")
        with self._lock:
            if self._serving_run is None or self._serving_run.run["id"] != run_id:
                self._serving_run = self._read(run_id)
            return self._serving_run

    def _read(self, run_id: int) -> ServingRun:
        run = run_reads.get_run(self.system.db, run_id)
        serving = load_serving(self.system.artifacts, run_id)
        dataset_id = run["dataset_id"]
        if serving.spec.exog and (serving.plan is None or serving.driver_tail is None):
            # a model saved before it kept its plan and drivers: take them from its data set
            stored = resolve_dataset(self.system.db, dataset_id)
            serving = replace(
                serving,
                plan=stored.plan if serving.plan is None else serving.plan,
                driver_tail=(
                    driver_tail(stored.frame, serving.spec)
                    if serving.driver_tail is None
                    else serving.driver_tail
                ),
            )
        keys = series_keys(self.system.db, dataset_id)
        stored = StoredForecast.of(stored_forecasts(self.system.db, run_id), serving)
        return ServingRun(run, serving, dataset_id, keys, stored)

    def generation(self) -> tuple[int | None, int | None]:
        """What a read depends on: the serving run and the data set shown (one lookup)."""
        run_id = self.run_id()
        return run_id, self._dataset_of(run_id)

    def dataset_id(self) -> int | None:
        """The data set shown: the serving run's, else the latest upload."""
        return self._dataset_of(self.run_id())

    def _dataset_of(self, run_id: int | None) -> int | None:
        if run_id is None:
            return latest_dataset_id(self.system.db)
        prod = self._serving_run
        if prod is not None and prod.run["id"] == run_id:
            return prod.dataset_id
        return run_reads.get_run(self.system.db, run_id)["dataset_id"]

    def dataset(self, dataset_id: int | None = None) -> DatasetShown:
        """A data set version's series and season, read once and kept."""
        dataset_id = dataset_id or self.dataset_id()
        if dataset_id is None:
            raise NoDataSet("No data set is stored yet: upload a CSV first.")
        with self._lock:
            if dataset_id not in self._dataset:
                dataset_id, info = resolve_dataset_info(self.system.db, dataset_id)
                keys = series_keys(self.system.db, dataset_id)
                # two kept: the serving run's and the newest (the actuals since)
                kept = {k: v for k, v in self._dataset.items() if k == self.dataset_id()}
                season = frequency_from_alias(info["freq"]).season_length
                kept[dataset_id] = DatasetShown(dataset_id, keys, season)
                self._dataset = kept
            return self._dataset[dataset_id]

    def keys(self, dataset_id: int | None = None) -> pd.DataFrame:
        """The series ids and attributes of a data set (none when nothing is stored)."""
        try:
            return self.dataset(dataset_id).keys
        except NoDataSet:
            return pd.DataFrame(columns=["unique_id", "total"])
