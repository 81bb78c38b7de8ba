"""A file read in partitions of whole series (issue 30) reads as the whole file does:
the same cleaned rows, the same report and notes, the same errors at the same rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.data.catalogue import estimated_rows, read_catalogue
from forecasting.data.dataset import prepare
from forecasting.data.reading_options import ReadingOptions
from forecasting.errors import DataError
from forecasting.progress import Reporter

#: small partitions and chunks, so that every series' rows arrive in several chunks
ROWS, CHUNK = 1500, 700


def _export(path: Path, plan: bool = False) -> pd.DataFrame:
    """A German export in no order: weekly dd.mm.yyyy dates, ``;`` and decimal commas;
    launches, series that stop early, gaps, slow movers; with ``plan`` the next four
    weeks' prices under the sales, with blank sales."""
    rng = np.random.default_rng(1)
    dates = pd.date_range("2022-01-03", periods=124, freq="W-MON")
    rows = []
    for i in range(40):
        start = int(rng.integers(0, 60)) if i % 3 == 0 else 0
        stop = 120 - (int(rng.integers(1, 10)) if i % 7 == 0 else 0)
        for d in dates[start:stop]:
            if i % 2 and rng.random() < 0.05:
                continue  # a week without a row
            sold = rng.poisson(3 if i % 2 else 30)
            rows.append((d, f"s{i % 4}", f"item{i:03d}", sold, round(2 + rng.random(), 2)))
        if plan and stop == 120:
            rows += [(d, f"s{i % 4}", f"item{i:03d}", None, 2.5) for d in dates[120:]]
    df = pd.DataFrame(rows, columns=["Datum", "Filiale", "Artikel", "Menge", "Preis"])
    df["Datum"] = df["Datum"].dt.strftime("%d.%m.%Y")
    df = df.sample(frac=1, random_state=0, ignore_index=True)
    df.to_csv(path, index=False, sep=";", decimal=",")
    return df


def _both(path: Path, tmp: Path, heard: list | None = None):
    """The file read whole and read in partitions; ``heard`` collects the progress."""
    heard = [] if heard is None else heard
    whole = prepare(path, ReadingOptions(), horizon=None)
    catalogue = read_catalogue(
        path, ReadingOptions(), tmp / "parts", rows=ROWS, chunk_rows=CHUNK,
        reporter=Reporter(on_progress=lambda share, said: heard.append((share, said))),
    )  # fmt: skip
    return whole, catalogue


def _rows(catalogue) -> pd.DataFrame:
    parts = catalogue.partitions
    return pd.concat([parts.read(i) for i in range(len(parts))], ignore_index=True)


def _by_series(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def test_a_file_read_in_partitions_is_the_file_read_whole(tmp_path):
    csv = tmp_path / "export.csv"
    rows = len(_export(csv))
    assert abs(estimated_rows(csv) - rows) < 0.02 * rows
    heard = []
    whole, catalogue = _both(csv, tmp_path, heard=heard)
    parts = catalogue.partitions
    assert len(parts) > 2
    # the reading is heard as it goes: counting, splitting, each partition cleaned
    shares = [share for share, _ in heard]
    assert shares == sorted(shares) and shares[-1] == pytest.approx(1.0) and len(heard) > 8
    assert heard[-1][1] == f"reading: partition {len(parts)} of {len(parts)} cleaned"
    assert any("rows counted" in said for _, said in heard)
    read = [parts.read(i) for i in range(len(parts))]
    # whole series in each partition, every cleaned row as the whole reading has it
    assert pd.concat([p["unique_id"].drop_duplicates() for p in read]).is_unique
    pd.testing.assert_frame_equal(
        _by_series(_rows(catalogue)), _by_series(whole.frame), check_dtype=False
    )
    assert parts.lengths.sort_index().to_dict() == whole.frame.groupby("unique_id").size().to_dict()
    # what the page and the command line say of the file: word for word
    assert catalogue.notes() == whole.notes()
    assert catalogue.data.cleaned.report.to_dict() == whole.cleaned.report.to_dict()
    assert catalogue.data.spec == whole.spec
    assert catalogue.data.validation_report() == whole.validation_report()
    # series that stopped early are said (cleaning does not fill them to the file's end)
    assert any("end before the file's last date" in n for n in catalogue.notes())
    # the file's own id columns for the files written
    lookup = catalogue.lookup.set_index("unique_id").sort_index()
    expected = whole.id_lookup().set_index("unique_id").sort_index()[lookup.columns]
    pd.testing.assert_frame_equal(lookup, expected, check_dtype=False)
    # nothing but the partitions is left in the folder
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [f.name for f in parts.files]


def test_a_plan_of_prices_under_the_sales_is_read_from_every_partition(tmp_path):
    csv = tmp_path / "export.csv"
    _export(csv, plan=True)
    whole, catalogue = _both(csv, tmp_path)
    assert whole.spec.exog == ("Preis",) and whole.spec.prices == ("Preis",)
    assert catalogue.data.spec == whole.spec
    pd.testing.assert_frame_equal(
        _by_series(catalogue.data.plan), _by_series(whole.plan), check_dtype=False
    )
    # the plan's weeks are not history: the partitions end where the sales do
    assert _rows(catalogue)["ds"].max() == whole.frame["ds"].max()
    assert catalogue.notes() == whole.notes()


def test_a_bad_cell_is_named_at_its_row_of_the_file(tmp_path):
    csv = tmp_path / "export.csv"
    df = _export(csv)
    for column, value, row in (("Datum", "31.02.2023", 2000), ("Menge", "1e300", 3100)):
        broken = df.astype(str).copy()
        broken.loc[row, column] = value
        broken.to_csv(csv, index=False, sep=";")
        with pytest.raises(DataError) as whole:
            prepare(csv, ReadingOptions(), horizon=None)
        with pytest.raises(DataError) as read:
            read_catalogue(csv, ReadingOptions(), tmp_path / column, rows=ROWS, chunk_rows=CHUNK)
        assert f"data row {row + 1} " in str(whole.value)
        assert str(read.value) == str(whole.value)
    # a sales cell that is not a number is read as blank, and counted, as in a whole file
    broken = df.astype(str).copy()
    broken.loc[[10, 2500], "Menge"] = "12O"
    broken.to_csv(csv, index=False, sep=";")
    whole, catalogue = _both(csv, tmp_path / "unreadable")
    assert catalogue.data.loaded.unreadable_cells == whole.loaded.unreadable_cells == 2
    assert catalogue.notes() == whole.notes()


def test_a_catalogue_over_the_series_limit_is_refused_before_its_rows_are_read(tmp_path):
    csv = tmp_path / "export.csv"
    _export(csv)
    from forecasting.data.limits import Limits

    with pytest.raises(DataError, match="40 series, over the limit of 30"):
        read_catalogue(csv, ReadingOptions(), tmp_path / "parts", limits=Limits(max_series=30))
    assert not (tmp_path / "parts").exists()


def _rows_behind(frame: pd.DataFrame) -> int:
    """The most rows any column of ``frame`` keeps alive: an empty frame sliced from a
    full one keeps all of the full one's rows (its arrays are views)."""
    most = 0
    for column in frame.columns:
        values = frame[column].to_numpy()
        while isinstance(values.base, np.ndarray):
            values = values.base
        most = max(most, values.shape[-1] if values.ndim else 0)
    return most


def test_what_a_reading_keeps_without_rows_holds_no_rows(tmp_path):
    """A catalogue's partitions are read one at a time; what each leaves behind (its
    report, its columns) must not hold its rows, or memory grows with the catalogue."""
    csv = tmp_path / "export.csv"
    _export(csv)
    whole, catalogue = _both(csv, tmp_path)
    assert len(catalogue.partitions) > 2
    for data in (whole, catalogue.data):
        assert data.loaded.frame.empty and _rows_behind(data.loaded.frame) == 0
    assert catalogue.data.frame.empty and _rows_behind(catalogue.data.frame) == 0
    assert list(catalogue.data.frame.columns) == list(whole.frame.columns)


@pytest.mark.parametrize("ids", ["object", "category"])
def test_partitions_folds_stack_as_concat_does_and_are_let_go(ids):
    """The partitions' validation folds are stacked into the choice's one table as
    ``pd.concat`` would, each let go once copied (the peak is the table and one part)."""
    from forecasting.partitioned import stacked

    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame(
            {
                "unique_id": pd.Series([f"s{k}"] * 6, dtype=ids),
                "ds": pd.date_range("2024-01-01", periods=6, freq="D"),
                "cutoff": np.repeat([0, 1], 3),
                "y": rng.integers(0, 9, 6) if k else rng.random(6),  # ints stack as floats
                "ets": rng.random(6),
                "dropped": rng.random(6),
            }
        )
        for k in range(3)
    ]
    columns = ["unique_id", "ds", "cutoff", "y", "ets"]
    expected = pd.concat([p[columns] for p in parts], ignore_index=True)
    tables = list(parts)
    out = stacked(tables, columns)
    assert tables == []
    pd.testing.assert_frame_equal(out, expected, check_categorical=False)
    assert not np.shares_memory(out["ets"].to_numpy(), parts[0]["ets"].to_numpy())
