"""A wide table (one column per series under a date column) is read as that many series."""

from __future__ import annotations

from forecasting.data.dataset import prepare
from forecasting.data.loading import load_csv
from tests.support.files import wide_daily


def test_one_numeric_column_per_store_becomes_one_series_each():
    data = load_csv(wide_daily())
    assert data.mapping.wide == ["north", "south", "east"]
    assert sorted(data.frame["unique_id"].unique()) == [
        "series=east",
        "series=north",
        "series=south",
    ]
    assert len(data.frame) == 3 * 120
    first = data.frame.groupby("unique_id")["y"].first()
    assert first["series=south"] > first["series=north"]  # each column kept its own values


def test_driver_named_columns_apply_to_every_series_and_target_names_count():
    text = "date,north_sales,south_sales,promo\n2024-01-01,5,7,1\n2024-01-02,6,8,0\n"
    data = load_csv(text.encode())
    assert data.mapping.wide == ["north_sales", "south_sales"]
    assert data.mapping.drivers == ["promo"]
    assert data.frame.groupby("unique_id")["promo"].apply(list).tolist() == [[1, 0], [1, 0]]
    # a blank cell is a period without a record, not a zero
    blank = load_csv(b"date,north,south\n2024-01-01,5,\n2024-01-02,6,8\n2024-01-03,7,9\n")
    assert blank.frame.groupby("unique_id").size().to_dict() == {
        "series=north": 3,
        "series=south": 2,
    }


def test_long_tables_and_named_targets_stay_long():
    single = load_csv(b"date,sales,price\n2024-01-01,5,2\n2024-01-02,6,2\n")
    assert single.mapping.wide == [] and single.mapping.target == "sales"
    named = load_csv(wide_daily(), target="north")
    assert named.mapping.wide == [] and named.frame["unique_id"].nunique() == 1
    assert named.mapping.drivers == ["south", "east"]


def test_the_report_says_it_was_read_wide():
    notes = " ".join(prepare(wide_daily(), horizon=7).notes())
    assert "wide table: 3 series, one per column (north, south, east)" in notes
    assert "--target" in notes
