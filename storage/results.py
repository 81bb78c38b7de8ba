"""Per-model results and stored forecasts of a run, and what production serves."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, insert, select

from storage.database import Database
from storage.datasets import _bulk, compact_read
from storage.tables import ForecastPoint, ModelResult, Production

#: stored forecast rows read at a time
FORECAST_ROWS = 100_000

BANDS = ["lo80", "hi80", "lo95", "hi95"]


def save_model_results(db: Database, run_id: int, rows: list[dict]) -> None:
    if not rows:  # nothing validated (every series short): rules serve, no model to record
        return
    with db.session() as s:
        s.execute(insert(ModelResult), [{"run_id": run_id, **row} for row in rows])


def model_results(db: Database, run_id: int) -> list[dict]:
    with db.session() as s:
        results = s.scalars(
            select(ModelResult).where(ModelResult.run_id == run_id).order_by(ModelResult.id)
        ).all()
        return [
            {
                "model": r.model,
                "params": r.params,
                "validation_score": r.validation_score,
                "validation": r.validation,
                "test": r.test,
                "trials": r.trials,
                "pruned": r.pruned,
                "seconds": r.seconds,
                "study_name": r.study_name,
                "mlflow_run_id": r.mlflow_run_id,
                "artifact_uri": r.artifact_uri,
                "selected": r.selected,
                "diverged": r.diverged or {},
                "true_drivers": r.true_drivers or [],
            }
            for r in results
        ]


def save_forecasts(db: Database, run_id: int, frame: pd.DataFrame) -> int:
    """Store a run's served forecast (``unique_id, ds, yhat``, bands, ``model``)."""
    rows = pd.DataFrame(
        {
            "run_id": run_id,
            "unique_id": frame["unique_id"].astype(str),
            "ds": pd.to_datetime(frame["ds"]).astype(object),
            "yhat": frame["yhat"].astype(float),
            **{b: frame[b].astype(float) if b in frame else None for b in BANDS},
            # a missing model stays missing (astype(str) stored the text "None")
            "model": _texts(frame["model"]) if "model" in frame else None,
        }
    )
    with db.session() as s:
        _bulk(s, ForecastPoint, rows)
    return len(rows)


def _texts(column: pd.Series) -> pd.Series:
    return pd.Series([None if pd.isna(v) else str(v) for v in column], column.index, object)


def delete_forecasts(db: Database, run_id: int) -> int:
    with db.session() as s:
        return s.execute(delete(ForecastPoint).where(ForecastPoint.run_id == run_id)).rowcount


def stored_forecasts(
    db: Database, run_id: int, series: list[str] | None = None, until=None
) -> pd.DataFrame:
    """A run's stored forecast; ``until``: only the periods up to that date."""
    query = select(
        ForecastPoint.unique_id,
        ForecastPoint.ds,
        ForecastPoint.yhat,
        *[getattr(ForecastPoint, b) for b in BANDS],
        ForecastPoint.model,
    ).where(ForecastPoint.run_id == run_id)
    if series:
        query = query.where(ForecastPoint.unique_id.in_(series))
    if until is not None:
        query = query.where(ForecastPoint.ds <= until)
    query = query.order_by(ForecastPoint.unique_id, ForecastPoint.ds)
    with db.session() as s:  # what every web worker keeps: 71 MB for 1.1 million rows,
        # where chunks of 500,000 left 376 MB behind and a whole read 617 MB
        frame = compact_read(
            query, s.connection(), text=("unique_id", "model"), dates=("ds",), rows=FORECAST_ROWS
        )
    return frame.astype({c: float for c in ("yhat", *BANDS)}, copy=False)


def production(db: Database) -> dict | None:
    with db.session() as s:
        row = s.get(Production, 1)
        if row is None:
            return None
        return {
            "run_id": row.run_id,
            "previous_run_id": row.previous_run_id,
            "promoted_at": row.promoted_at.isoformat(timespec="seconds"),
        }
