"""A catalogue's serving model, a partition of whole series at a time.

What ``forecasting.workflow.production_model`` reads of the history, from the
partitions a run's backtest was cut into (``forecasting.partitioned``): the series'
profiles, the final fits on all history, and what the serving model keeps of each
series (``SeriesFacts``). No process holds every row: the serving model's build read
the whole version, about 185 bytes a row at 4.9 million rows, and was a run's peak
(issue 30). Every series-by-series model serves the whole run's forecasts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from forecasting.data.ladder import marked_ended, profile_series
from forecasting.data.partitions import Partitions
from forecasting.data.spec import DataSpec
from forecasting.evaluation.selection import Selection
from forecasting.evaluation.tuning import TuningResult
from forecasting.memory import release_memory
from forecasting.models.base import Forecaster
from forecasting.models.by_partition import ByPartition
from forecasting.progress import Reporter
from forecasting.serving.reconciliation import reconcilable
from forecasting.serving.series_facts import SeriesFacts
from forecasting.workflow import fit_models, fitted_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Catalogue:
    """A catalogue's partitions and the held-out fits its backtest kept in ``folder``
    (``partitioned_backtest(keep=...)``), read as ``production_model`` asks."""

    parts: Partitions
    folder: Path

    def profile(self, h: int, season_length: int) -> pd.DataFrame:
        """``mark_ended(profile_series(...))`` of the whole panel."""
        profiles, lasts, dates = [], [], []
        for i in range(len(self.parts)):
            df = self.parts.read(i)
            profiles.append(profile_series(df, h, season_length))
            lasts.append(df.groupby("unique_id", sort=False)["ds"].max())
            dates.append(df["ds"].unique())
        every = np.unique(np.concatenate(dates)) if dates else np.array([], "datetime64[ns]")
        return marked_ended(pd.concat(profiles), pd.concat(lasts), every)

    def final_fits(
        self,
        profile: pd.DataFrame,
        spec: DataSpec,
        tuning: dict[str, TuningResult],
        served: set[str],
        reporter: Reporter | None = None,
    ) -> dict[str, Forecaster]:
        """Every model on all history, a partition at a time, from its held-out fit; each
        model's parts serve as one (``ByPartition``)."""
        reporter = reporter or Reporter()
        per_model: dict[str, list[Forecaster]] = {}
        for i in range(len(self.parts)):
            part_reporter = reporter.sub(i / len(self.parts), (i + 1) / len(self.parts))
            modelled = fitted_rows(self.parts.read(i), profile)
            if modelled.empty:
                continue
            log.info(
                "partition %d of %d: final fits of %d series",
                i + 1, len(self.parts), modelled["unique_id"].nunique(),
            )  # fmt: skip
            previous = joblib.load(self.folder / f"heldout-{i}.pkl")
            fitted = fit_models(
                modelled, spec, tuning, part_reporter, previous, served, "final fit on all history:"
            )
            for name, model in fitted.items():
                per_model.setdefault(name, []).append(model)
            del modelled, previous, fitted
            release_memory()
        return {name: ByPartition.of(models) for name, models in per_model.items()}

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The panel's first and last period."""
        days = [self.parts.read(i, ["ds"])["ds"] for i in range(len(self.parts))]
        return min(d.min() for d in days), max(d.max() for d in days)

    def facts(self, spec: DataSpec, profile: pd.DataFrame, on_rule: pd.Index) -> SeriesFacts:
        """``SeriesFacts`` of every series, each partition's judged in the whole span."""
        span = self.span()
        return SeriesFacts.joined(
            [
                SeriesFacts.of(self.parts.read(i), spec, span, profile, on_rule)
                for i in range(len(self.parts))
            ]
        )

    def totals_rows(self, selection: Selection, facts: SeriesFacts) -> pd.DataFrame:
        """What ``coherent`` reads to choose how the totals are made: the rows of the
        validated series where there are few enough to reconcile (``reconcilable``: at
        most ``MAX_SERIES``) over two validation folds or more, else only the keys, which
        is all it reads then (with one fold there are no held-apart weights: the 3,000
        series' rows read for nothing were a run's peak, +1.1 GB)."""
        table = selection.table
        if table is None or table.empty or not reconcilable(table):
            return facts.keys
        if table["cutoff"].nunique() < 2:
            return facts.keys
        series = table["unique_id"].unique()
        rows = [self._rows_of(i, series) for i in range(len(self.parts))]
        return pd.concat(rows, ignore_index=True)

    def _rows_of(self, i: int, series: np.ndarray) -> pd.DataFrame:
        df = self.parts.read(i)
        return df.loc[df["unique_id"].isin(series)]
