"""Step ``eda``: analyse a stored data set version and save the report the web app shows."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from forecasting.data.eda import EdaReport, analyse_parts
from forecasting.data.partitions import PARTITION_ROWS
from forecasting.data.spec import DataSpec
from pipeline.context import RunContext
from pipeline.eda_report import report_dir, report_json, write_report
from pipeline.stored import resolve_dataset_info, spec_from_info, training_frame
from pipeline.tracking import Tracker
from storage.datasets import dataset_parts, outlier_observations


def analyse_and_save(
    reports_dir: Path,
    dataset_id: int,
    frame: pd.DataFrame | Iterable[pd.DataFrame],
    spec: DataSpec,
    outliers: pd.DataFrame,
    cleaning: dict,
    quantity: str = "sales",
) -> tuple[EdaReport, Path]:
    """The EDA report of one data set version (its frame, or its partitions of whole
    series), written where the app reads it.

    ``quantity`` is the target column's name, for the figures' axes.
    """
    parts = [frame] if isinstance(frame, pd.DataFrame) else frame
    report = analyse_parts(parts, spec, outliers, cleaning=cleaning)
    return report, write_report(report, report_dir(reports_dir, dataset_id), quantity)


def eda(
    ctx: RunContext,
    dataset_id: int | None,
    tracker: Tracker | None = None,
    rows: int = PARTITION_ROWS,
) -> Path:
    """Analyse the stored version a partition of whole series (at most ``rows`` rows) at
    a time, so that a catalogue's is never held whole."""
    dataset_id, info = resolve_dataset_info(ctx.db, dataset_id)
    ctx.report(0.2, f"analysing data set version {dataset_id}")
    report, target = analyse_and_save(
        ctx.settings.reports_dir,
        dataset_id,
        (training_frame(part) for part in dataset_parts(ctx.db, dataset_id, rows)),
        spec_from_info(info),
        outlier_observations(ctx.db, dataset_id),
        info["cleaning"],
        ((info.get("mapping") or {}).get("mapping") or {}).get("target", "sales"),
    )
    ctx.check_cancelled()
    agg = report.aggregate.stats
    ctx.log.info(
        "EDA: trend strength %s, seasonal strength %s, %s (ADF p=%s, KPSS p=%s); saved to %s",
        _fmt(agg.get("trend_strength")),
        _fmt(agg.get("seasonal_strength"))
        + (f" ({agg['seasonal_note']})" if agg.get("seasonal_note") else ""),
        agg.get("stationary"),
        _fmt(agg.get("adf_pvalue")),
        _fmt(agg.get("kpss_pvalue")),
        target,
    )
    if tracker is not None:
        payload = report_json(report)
        tracker.log_dict(
            {"overview": payload["overview"], "aggregate": payload["aggregate"]},
            "eda/summary.json",
        )
    return target


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
