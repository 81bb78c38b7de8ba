"""The long-frame contract, checked once with pandera at the door.

Failures become one ``DataError`` whose message names the column or series at
fault and how to fix it (the loader raises its own parse errors before this).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from forecasting.errors import DataError


def long_frame_schema(min_length: int = 2) -> pa.DataFrameSchema:
    """Schema of a cleaned long frame: one finite ``y`` per series and period."""
    return pa.DataFrameSchema(
        {
            "unique_id": pa.Column(str, nullable=False),
            "ds": pa.Column("datetime64[ns]", nullable=False),
            "y": pa.Column(
                float,
                pa.Check(lambda y: np.isfinite(y), element_wise=False, name="finite"),
                nullable=False,
            ),
        },
        unique=["unique_id", "ds"],
        checks=[
            pa.Check(
                lambda df: df.groupby("unique_id")["y"].transform("size") >= min_length,
                name="series_length",
                error=f"series_length>={min_length}",
            )
        ],
        strict=False,
        coerce=False,
    )


def validate_long_frame(frame: pd.DataFrame, min_length: int = 2) -> pd.DataFrame:
    """Validate the contract; raise ``DataError`` with a readable message on failure."""
    if len(frame) < 2:
        raise DataError(
            f"The data has {len(frame)} usable row(s); forecasting needs at least two periods "
            "of history for every series. Add more rows."
        )
    try:
        return long_frame_schema(min_length).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise DataError(_explain(exc.failure_cases, frame, min_length)) from exc


def _explain(failures: pd.DataFrame, frame: pd.DataFrame, min_length: int) -> str:
    messages = []
    for check, group in failures.groupby("check", sort=False):
        check = str(check)
        column = group["column"].iloc[0]
        if check.startswith("series_length"):
            sizes = frame.groupby("unique_id").size()
            short = sizes[sizes < min_length].sort_values()
            names = ", ".join(f"{k!r} has {v}" for k, v in short.head(5).items())
            messages.append(
                f"Too little history: {names} period(s), but the horizon and the validation "
                f"folds need at least {min_length} per series. Shorten the horizon or add "
                "more history."
            )
        elif "unique" in check or "duplicates" in check:
            messages.append(
                "Some series have more than one row for the same period; clean the data first "
                "so each (series, period) appears once."
            )
        elif check == "finite" or "not_nullable" in check:
            rows = group["index"].dropna().astype(int).head(3).tolist()
            messages.append(
                f"Column {column!r} has missing or infinite values (rows {rows}). Fill them in."
            )
        else:
            messages.append(
                f"Column {column!r} failed check {check}: {group['failure_case'].head(3).tolist()}."
            )
    return " ".join(messages)


def without_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s columns and dtypes, none of its rows, and nothing of its memory:
    ``frame.iloc[:0]`` is a view that keeps every row alive (a catalogue's partitions
    were all held that way, one raw and one cleaned copy each, issue 30)."""
    return frame.iloc[:0].copy()
