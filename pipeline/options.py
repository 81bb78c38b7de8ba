"""What a run was asked to do, stored with its row as JSON (so any process can execute it)."""

from __future__ import annotations

from argparse import Namespace
from copy import copy
from dataclasses import dataclass, field, fields

from forecasting.data.frequency import check_horizon
from forecasting.data.gaps import DEFAULT_GAP_POLICY
from forecasting.data.limits import Limits
from forecasting.data.partitions import PARTITION_ROWS
from forecasting.data.reading_options import ReadingOptions
from forecasting.errors import DataError
from forecasting.evaluation.selection import DEFAULT_MODE, MODES
from forecasting.models import check_names
from pipeline.engines import check_engine

#: which steps each kind of run executes, in order
STEPS = {
    "run": ("ingest", "eda", "train", "forecast"),
    "ingest": ("ingest", "eda"),
    "eda": ("eda",),
    "train": ("train", "forecast"),
}


@dataclass
class RunOptions:
    kind: str = "run"
    csv: str | None = None
    source_name: str | None = None
    #: how the file is read (its calendar, when not named: the settings')
    reading: ReadingOptions = field(default_factory=ReadingOptions)
    #: whether prices and promotions keep their effect signs in the models
    constraints: bool = True
    dataset_id: int | None = None
    #: new actuals: the file goes on top of a stored version (``append_to``, the latest
    #: when the front door takes it) instead of replacing the data
    append: bool = False
    append_to: int | None = None
    horizon: int | None = None
    #: the models asked for; None: the default set (expensive models screened on a sample)
    models: list[str] | None = None
    trials: int = 0
    timeout: float | None = None
    windows: int = 3
    selection: str = DEFAULT_MODE
    jobs: int = -1
    #: where the per-series fits run (``pipeline.engines``): auto, local or dask
    engine: str = "auto"
    track: bool = True
    #: a data set of more rows is trained a partition of whole series at a time
    #: (``forecasting.partitioned``), each of at most this many rows
    partition_rows: int = PARTITION_ROWS
    #: a file of more rows is read and stored a partition of whole series at a time, each
    #: of at most this many rows (``pipeline.steps.ingest``)
    reading_rows: int = PARTITION_ROWS

    def __post_init__(self) -> None:
        if self.kind not in STEPS:
            raise DataError(f"Unknown run kind {self.kind!r}; use one of {', '.join(STEPS)}.")
        if "ingest" in STEPS[self.kind] and not self.csv:
            raise DataError("A run that ingests needs a CSV file (--csv FILE).")
        if self.horizon is not None:
            check_horizon(self.horizon)
        check_names(self.models or [])
        if self.selection not in MODES:
            raise DataError(f"Unknown selection {self.selection!r}; use one of {', '.join(MODES)}.")
        if self.trials < 0:
            raise DataError(f"--trials must be 0 or more, got {self.trials}.")
        if self.windows < 1:
            raise DataError(f"--windows must be at least 1, got {self.windows}.")
        check_engine(self.engine)
        for flag, rows in (("partition", self.partition_rows), ("reading", self.reading_rows)):
            if rows < 1:
                raise DataError(f"--{flag}-rows must be at least 1, got {rows}.")

    @property
    def steps(self) -> tuple[str, ...]:
        return STEPS[self.kind]

    def to_dict(self) -> dict:
        """Flat JSON, as runs have always been stored: the reading's keys beside the rest."""
        rest = {f.name: copy(getattr(self, f.name)) for f in fields(self) if f.name != "reading"}
        return {**rest, **self.reading.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> RunOptions:
        """From stored flat JSON (keys no longer known are ignored)."""
        reading, rest = ReadingOptions.split(data)
        known = {f.name for f in fields(cls)} - {"reading"}
        return cls(reading=reading, **{k: v for k, v in rest.items() if k in known})


def limits_from(settings) -> Limits:
    """The upload limits of ``storage.settings.Settings`` for the loader."""
    return Limits(
        max_bytes=settings.max_upload_mb * 1024 * 1024,
        max_rows=settings.max_rows,
        max_columns=settings.max_columns,
        max_series=settings.max_series,
    )


def reading_from_args(args: Namespace) -> ReadingOptions:
    """The reading the command line's data flags ask for (``cli._data_options``)."""
    return ReadingOptions(
        date=getattr(args, "date", None),
        target=getattr(args, "target", None),
        ids=getattr(args, "ids", None),
        exog=getattr(args, "exog", None),
        prices=getattr(args, "prices", None),
        promotions=getattr(args, "promotions", None),
        country=getattr(args, "country", None),
        gap_policy=getattr(args, "gap_policy", DEFAULT_GAP_POLICY),
    )
