"""The loader reads real-world CSV variants into the long frame, detecting columns."""

from __future__ import annotations

import pandas as pd

from forecasting.data.cleaning import clean
from forecasting.data.loading import load_csv, parse_numbers


def test_original_system_format_loads_with_no_arguments(ecommerce_csv):
    data = load_csv(ecommerce_csv)
    assert data.mapping.date == "date"
    assert data.mapping.target == "daily_sales"
    assert data.mapping.ids == ["product_category"]
    assert data.mapping.drivers == ["marketing_spend", "is_holiday"]
    assert list(data.frame.columns[:3]) == ["unique_id", "ds", "y"]
    assert data.frame["unique_id"].unique().tolist() == ["product_category=Electronics"]
    assert len(data.frame) == 669
    assert data.frame["y"].iloc[0] == 15234.0


def test_multi_series_sample_combines_id_columns(store_item_csv):
    data = load_csv(store_item_csv)
    assert data.mapping.ids == ["store", "item"]
    assert data.mapping.attributes == ["category"]  # one category per item: kept, not a key
    assert data.frame.groupby("unique_id")["category"].nunique().max() == 1
    assert data.mapping.target == "units_sold"
    assert set(data.mapping.drivers) == {"price", "promo"}
    assert data.frame["unique_id"].nunique() == 9
    assert "store=north/item=coffee" in set(data.frame["unique_id"])


def test_statsforecasts_own_format_reads_its_unique_id_as_a_series_id():
    """``unique_id, ds, y`` (a notebook's export) failed: the file's ``unique_id`` and the
    frame's key were two columns of one name ("The column label 'unique_id' is not
    unique"). The file's column is read as ``series``, named or detected."""
    text = "unique_id,ds,y\nA,2024-01-01,3\nA,2024-01-02,4\nB,2024-01-01,5\nB,2024-01-02,6\n"
    for ids in (None, ["unique_id"]):
        data = load_csv(text.encode(), ids=ids)
        assert data.mapping.ids == ["series"]
        assert data.mapping.renamed == {"unique_id": "series"}
        assert list(data.frame.columns) == ["unique_id", "ds", "y", "series"]
        assert data.frame["unique_id"].unique().tolist() == ["series=A", "series=B"]
    taken = "unique_id,series,ds,y\nA,x,2024-01-01,3\nA,x,2024-01-02,4\n"
    assert load_csv(taken.encode()).mapping.renamed == {"unique_id": "series_id"}


def test_semicolon_and_decimal_comma():
    text = "Datum;Filiale;Umsatz;Preis\n2024-01-01;A;1.234,5;2,5\n2024-01-02;A;987,25;2,75\n"
    data = load_csv(text.encode())
    assert data.delimiter == ";"
    assert data.decimal == ","
    assert data.frame["y"].tolist() == [1234.5, 987.25]
    assert data.frame["Preis"].tolist() == [2.5, 2.75]


def test_units_are_the_sales_before_the_revenue_beside_them():
    """An export with units and revenue forecasts units (a stranger's file had Stück and
    Umsatz, and got a revenue forecast with the units taken for its outcome); revenue is
    the sales only where nothing counts the units."""
    days = [(f"0{d}.01.2024", shop, d + 2) for d in range(1, 8) for shop in "AB"]
    rows = "".join(f"{day},{shop},{n},2.5,{n * 2.5}\n" for day, shop, n in days)
    for units in ("Stück", "Stueck", "Menge", "Qty", "units_sold"):
        data = load_csv((f"Tag,Laden,{units},Preis,Umsatz\n" + rows).encode("utf-8"))
        assert data.mapping.target == units, units
        assert "Umsatz" in data.mapping.drivers  # where the outcome check can find it
    money = "".join(f"{day},{shop},2.5,{n * 2.5}\n" for day, shop, n in days)
    assert load_csv(("Tag,Laden,Preis,Umsatz\n" + money).encode()).mapping.target == "Umsatz"


def test_utf8_bom_and_latin1_text():
    bom = "\ufeffdate,sales\n2024-01-01,5\n2024-01-02,6\n".encode()
    data = load_csv(bom)
    assert data.mapping.date == "date" and data.encoding == "utf-8-sig"
    latin = "date,région,sales\n2024-01-01,Orléans,5\n2024-01-02,Orléans,6\n".encode("latin-1")
    data = load_csv(latin, ids=["région"])
    assert data.frame["unique_id"].iloc[0] == "région=Orléans"
    assert data.frame["y"].sum() == 11


def test_quoted_thousands_and_boolean_words():
    text = 'date,store,sales,promo\n2024-01-01,1,"1,234.50",TRUE\n2024-01-02,1,"2,000",FALSE\n'
    data = load_csv(text.encode())
    assert data.frame["y"].tolist() == [1234.5, 2000.0]
    assert data.frame["promo"].tolist() == [1.0, 0.0]


def test_explicit_columns_override_detection():
    text = "when,shop,qty,other\n2024-01-01,a,1,9\n2024-01-02,a,2,8\n"
    data = load_csv(text.encode(), date="when", target="other", ids=["shop"])
    assert data.frame["y"].tolist() == [9.0, 8.0]
    assert data.frame["unique_id"].iloc[0] == "shop=a"


def test_parse_numbers_handles_currency_and_blanks():
    values = pd.Series(["$1,200", " 3.5 ", None, "n/a", "yes"])
    parsed = parse_numbers(values)
    assert parsed.iloc[0] == 1200 and parsed.iloc[1] == 3.5 and parsed.iloc[4] == 1.0
    assert parsed.iloc[2:4].isna().all()


def test_reference_formats_infer_frequency(ecommerce_csv, store_item_csv):
    daily = clean(load_csv(ecommerce_csv).frame)
    assert daily.freq.alias == "D" and daily.report.series == 1
    weekly_text = "Store,Dept,Date,Weekly_Sales,IsHoliday\n" + "".join(
        f"1,{d},{day.date()},{100 + d},FALSE\n"
        for d in (1, 2)
        for day in pd.date_range("2010-02-05", periods=10, freq="W-FRI")
    )
    weekly = clean(load_csv(weekly_text.encode()).frame)
    assert weekly.freq.alias == "W-FRI" and weekly.report.series == 2
    monthly_text = "month,sales\n" + "".join(
        f"{d.date()},{i}\n"
        for i, d in enumerate(pd.date_range("2020-01-01", periods=30, freq="MS"))
    )
    monthly = clean(load_csv(monthly_text.encode()).frame)
    assert monthly.freq.alias == "MS" and monthly.freq.season_length == 12


def test_a_sales_cell_that_is_not_a_number_is_named_not_dropped_silently():
    from forecasting.data.dataset import prepare

    weeks = pd.date_range("2024-01-01", periods=40, freq="W-MON")
    rows = [f"{d:%d.%m.%Y};Berlin;{100 + i % 9}" for i, d in enumerate(weeks)]
    rows[6] = rows[6].rsplit(";", 1)[0] + ";12O"  # the letter O typed for a zero
    raw = ("Datum;Filiale;Menge\n" + "\n".join(rows) + "\n").encode()
    loaded = load_csv(raw)
    assert "'12O' in 'Menge' on data row 7 (line 8 of the file)" in loaded.unreadable
    notes = prepare(raw, horizon=4).notes()
    assert any("1 sales value(s) are not numbers and were read as blank" in n for n in notes)
    assert load_csv(raw.replace(b";12O", b";120")).unreadable is None


def test_the_count_of_sales_cells_that_are_not_numbers_is_said_once_everywhere():
    from forecasting.data.dataset import prepare

    days = pd.date_range("2024-01-01", periods=90)
    rows = ["date,store,sales"] + [
        f"{d.date()},a,{'12O' if i in (30, 61) else 100 + i % 7}" for i, d in enumerate(days)
    ]
    data = prepare("\n".join(rows).encode(), horizon=7)
    report = data.validation_report()
    assert report["detected"]["unreadable_sales_cells"] == 2
    assert any(n.startswith("2 sales value(s) are not numbers") for n in data.notes())
    filled = report["cleaning"]["values_filled"]
    assert filled == 2 and f"{filled} periods without a value in the file filled" in " ".join(
        data.notes()
    )
