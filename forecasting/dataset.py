"""From a CSV to a clean, validated long frame plus the report the UI and CLI show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.cleaning import CleanData, clean
from forecasting.errors import DataError
from forecasting.frequency import infer_frequency
from forecasting.gaps import DEFAULT_GAP_POLICY
from forecasting.limits import Limits
from forecasting.loading import LoadedData, load_csv
from forecasting.spec import DataSpec
from forecasting.wide import describe_wide


@dataclass
class Dataset:
    loaded: LoadedData
    cleaned: CleanData
    spec: DataSpec

    @property
    def frame(self) -> pd.DataFrame:
        return self.cleaned.frame

    def summary(self) -> dict:
        report = self.cleaned.report
        return {"series": report.series, "rows": report.rows_out, "freq": report.freq}

    def validation_report(self) -> dict:
        """What was detected, cleaned and dropped, and why; shown before anything is stored."""
        return {
            "detected": self.loaded.describe(),
            "cleaning": self.cleaned.report.to_dict(),
            "exog": list(self.spec.exog),
            "country": self.spec.country,
        }

    def notes(self) -> list[str]:
        """What was read how, in sentences for the command line, the log and the upload page."""
        mapping = self.loaded.mapping
        notes = [
            f"columns: date {mapping.date!r}, target {mapping.target!r}, series ids "
            f"{', '.join(mapping.ids) or 'none (one series)'}, possible drivers "
            f"{', '.join(mapping.drivers) or 'none'}",
            f"dates: {self.loaded.dates.reason}",
        ]
        if mapping.wide:
            notes.append(describe_wide(mapping))
        notes.append(f"missing periods: {self.cleaned.report.gap_rule}")
        return notes

    def id_lookup(self) -> pd.DataFrame:
        """``unique_id`` to the input's own id columns, for output files."""
        ids = self.loaded.mapping.ids
        if not ids:
            return self.frame[["unique_id"]].drop_duplicates()
        return self.frame[["unique_id", *ids]].drop_duplicates("unique_id")


def prepare(
    source: str | Path | bytes,
    *,
    horizon: int | None,
    date: str | None = None,
    target: str | None = None,
    ids: list[str] | None = None,
    exog: list[str] | None = None,
    country: str | None = "US",
    gap_policy: str = DEFAULT_GAP_POLICY,
    limits: Limits | None = None,
) -> Dataset:
    """Load, clean and validate. Every series is kept, however short (the ladder forecasts it).

    ``horizon`` is only checked here; ``None`` means the usual one for the frequency.
    """
    if horizon is not None and horizon < 1:
        raise DataError(f"The horizon must be at least 1 period, got {horizon}.")
    loaded = load_csv(source, date=date, target=target, ids=ids, limits=limits)
    exog = list(exog or [])
    unknown = [c for c in exog if c not in loaded.mapping.drivers]
    if unknown:
        raise DataError(
            f"Driver column(s) {', '.join(unknown)} are not numeric columns of the file. "
            f"Numeric columns available as drivers: {', '.join(loaded.mapping.drivers) or 'none'}."
        )
    keep = ["unique_id", "ds", "y", *loaded.mapping.ids, *loaded.mapping.attributes, *exog]
    frame = loaded.frame[keep]
    freq = infer_frequency(frame)
    cleaned = clean(frame, freq=freq, gap_policy=gap_policy, limits=limits)
    for col in exog:
        holes = cleaned.frame[col].isna()
        if holes.any():
            uid = cleaned.frame.loc[holes, "unique_id"].iloc[0]
            raise DataError(
                f"Driver {col!r} has no values for series {uid!r} ({int(holes.sum())} rows). "
                "Fill it in or leave it out of --exog."
            )
    spec = DataSpec(
        freq=freq,
        exog=tuple(exog),
        country=country or None,
        attributes=(*loaded.mapping.ids, *loaded.mapping.attributes),
    )
    return Dataset(loaded, cleaned, spec)
