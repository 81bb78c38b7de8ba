"""A stored data set version as the forecasting library wants it: frame and ``DataSpec``."""

from __future__ import annotations

import pandas as pd

from forecasting.data.frequency import frequency_from_alias
from forecasting.data.spec import DataSpec
from storage.database import Database
from storage.datasets import StoredDataset, dataset_info, latest_dataset_id, load_dataset


def spec_from_info(info: dict) -> DataSpec:
    return DataSpec(
        freq=frequency_from_alias(info["freq"]),
        exog=tuple(info["exog"]),
        prices=tuple((info.get("mapping") or {}).get("prices", ())),
        promotions=tuple((info.get("mapping") or {}).get("promotions", ())),
        country=info["country"],
        attributes=tuple(info["attributes"]),
    )


def resolve_dataset(db: Database, dataset_id: int | None) -> StoredDataset:
    """The given version, or the latest; a clear error when there is none."""
    return load_dataset(db, resolve_dataset_info(db, dataset_id)[0])


def resolve_dataset_info(db: Database, dataset_id: int | None) -> tuple[int, dict]:
    """The given version's id and row, or the latest's; a clear error when there is none."""
    from forecasting.errors import DataError

    dataset_id = dataset_id or latest_dataset_id(db)
    if dataset_id is None:
        raise DataError(
            "No data set is stored yet: ingest a CSV first (python -m pipeline ingest)."
        )
    info = dataset_info(db, dataset_id)
    if info is None:
        raise DataError(f"Data set version {dataset_id} does not exist.")
    return dataset_id, info


def training_frame(stored: StoredDataset | pd.DataFrame) -> pd.DataFrame:
    """The rows the models read: without the outlier and filled marks."""
    frame = stored if isinstance(stored, pd.DataFrame) else stored.frame
    return frame.drop(columns=["is_outlier", "is_filled"], errors="ignore")
