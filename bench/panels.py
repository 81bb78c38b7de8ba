"""The public panels every change to the defaults is judged on (``../shared/data``).

One place for what each file is and how it is read, shared by the suite
(``bench/suite.py``), the kept peers (``bench/peers.py``), the cost breakdown
(``bench/cost.py``) and the selection replay (``bench/selection.py``). The
columns are named, as a careful user would on the command line; the training
options are left at their defaults. The dunnhumby file with prices and
promotions stays with ``bench/drivers.py``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Panel:
    #: the CSV under the data folder
    csv: str
    horizon: int
    #: holiday calendar
    country: str
    ids: tuple[str, ...]
    date: str
    target: str
    #: pandas frequency and season length (for the AutoETS script and the peers)
    freq: str
    season: int
    #: "full_history": only the series present in every period of the file;
    #: "first_10": the file's first ten series (the shape of a small grocery file)
    variant: str | None = None

    def cli_arguments(self, csv: Path) -> list[str]:
        """The product's command-line reading of the file (``--csv`` ... ``--horizon``)."""
        args = ["--csv", str(csv), "--horizon", str(self.horizon), "--country", self.country]
        args += ["--date", self.date, "--target", self.target]
        for col in self.ids:
            args += ["--id", col]
        return args

    def script_arguments(self, csv: Path) -> list[str]:
        """The AutoETS script's reading of the same file (``bench/autoets_script.py``)."""
        args = ["--csv", str(csv), "--date", self.date, "--target", self.target]
        args += ["--freq", self.freq, "--season", str(self.season)]
        args += ["--horizon", str(self.horizon)]
        for col in self.ids:
            args += ["--id", col]
        return args


PANELS: dict[str, Panel] = {
    "ecommerce": Panel(
        "ecommerce_sales_daily/ecommerce_sales_data.csv", 28, "US", (), "date", "daily_sales",
        "D", 7,
    ),
    "m5": Panel(
        "m5_tx1_wi1_items_daily/m5_tx1_wi1_28items_daily.csv", 28, "US",
        ("item_id", "store_id"), "date", "sales", "D", 7,
    ),
    "favorita": Panel(
        "favorita_store_transactions_daily/transactions.csv", 28, "EC", ("store_nbr",), "date",
        "transactions", "D", 7,
    ),
    "carparts": Panel(
        "carparts_monthly/carparts.csv", 12, "US", ("part",), "month", "demand", "MS", 12
    ),
    "walmart": Panel(
        "walmart_store_dept_weekly/train.csv", 13, "US", ("Store", "Dept"), "Date",
        "Weekly_Sales", "W-FRI", 52, "full_history",
    ),
    "m5_10": Panel(
        "m5_tx1_wi1_items_daily/m5_tx1_wi1_28items_daily.csv", 28, "US",
        ("item_id", "store_id"), "date", "sales", "D", 7, "first_10",
    ),
    "m3": Panel("m3_monthly/m3_monthly.csv", 18, "US", ("series_id",), "date", "value", "MS", 12),
    "tourism": Panel(
        "tourism_monthly/tourism_monthly.csv", 24, "US", ("series_id",), "date", "value", "MS", 12
    ),
}  # fmt: skip


def panel_csv(name: str, data: Path, work: Path | None = None) -> Path:
    """The file of a panel as the benchmarks read it (Walmart: its full-history series;
    ``m5_10``: M5's first ten series)."""
    panel = PANELS[name]
    path = data / panel.csv
    if panel.variant is None:
        return path
    work = work or Path(tempfile.gettempdir())
    out = work / f"{name}_{panel.variant}.csv"
    if not out.exists():
        import pandas as pd

        raw = pd.read_csv(path)
        ids = list(panel.ids)
        if panel.variant == "full_history":
            counts = raw.groupby(ids)[panel.date].transform("nunique")
            keep = counts == raw[panel.date].nunique()
        else:  # first_10
            first = raw[ids].drop_duplicates().head(10)
            keep = raw[ids].merge(first, how="left", indicator=True)["_merge"].eq("both")
        raw.loc[keep.to_numpy()].to_csv(out, index=False)
    return out


def load(name: str, data: Path, work: Path | None = None):
    """The panel as the product reads it: ``(Dataset, horizon)``."""
    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions

    panel = PANELS[name]
    reading = ReadingOptions(
        date=panel.date, target=panel.target, ids=panel.ids or None, country=panel.country
    )
    dataset = prepare(panel_csv(name, data, work), reading, horizon=panel.horizon)
    return dataset, panel.horizon
