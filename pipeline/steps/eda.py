"""Step ``eda``: analyse a stored data set version and save the report the web app shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.data.eda import EdaReport, analyse
from forecasting.data.spec import DataSpec
from pipeline.context import RunContext
from pipeline.eda_report import report_dir, report_json, write_report
from pipeline.stored import outlier_rows, resolve_dataset, spec_from_info, training_frame
from pipeline.tracking import Tracker


def analyse_and_save(
    reports_dir: Path,
    dataset_id: int,
    frame: pd.DataFrame,
    spec: DataSpec,
    outliers: pd.DataFrame,
    cleaning: dict,
    quantity: str = "sales",
) -> tuple[EdaReport, Path]:
    """The EDA report of one data set version, written where the app reads it.

    ``quantity`` is the target column's name, for the figures' axes.
    """
    report = analyse(frame, spec, outliers, cleaning=cleaning)
    return report, write_report(report, report_dir(reports_dir, dataset_id), quantity)


def eda(ctx: RunContext, dataset_id: int | None, tracker: Tracker | None = None) -> Path:
    stored = resolve_dataset(ctx.db, dataset_id)
    ctx.report(0.2, f"analysing data set version {stored.id}")
    report, target = analyse_and_save(
        ctx.settings.reports_dir,
        stored.id,
        training_frame(stored),
        spec_from_info(stored.info),
        outlier_rows(stored),
        stored.info["cleaning"],
        ((stored.info.get("mapping") or {}).get("mapping") or {}).get("target", "sales"),
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
