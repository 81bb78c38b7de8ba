"""Dates are read with one day/month order for the whole column, decided from all of it."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.data.cleaning import clean
from forecasting.data.dates import read_dates
from forecasting.data.loading import load_csv
from forecasting.errors import DataError
from tests.support.files import european_monthly


def _read(values: list[str], keys: list[str] | None = None):
    return read_dates(pd.Series(values), None if keys is None else pd.Series(keys))


def test_a_value_above_12_decides_the_order():
    ds, reading = _read(["13.01.2024", "14.01.2024", "01.02.2024"])
    assert reading.order == "day-first" and "'13.01.2024'" in reading.reason
    assert ds.iloc[2] == pd.Timestamp("2024-02-01")
    ds, reading = _read(["01/13/2024", "01/14/2024", "02/01/2024"])
    assert reading.order == "month-first"
    assert ds.iloc[2] == pd.Timestamp("2024-02-01")


def test_all_ambiguous_dates_take_the_regular_reading():
    months = pd.date_range("2021-01-01", periods=24, freq="MS")
    ds, reading = _read([f"{d:%d.%m.%Y}" for d in months])
    assert reading.order == "day-first"
    assert "monthly dates with no missing periods" in reading.reason
    assert "month-first daily dates with" in reading.reason
    assert ds.tolist() == list(months)
    # the same months written the American way are read month-first
    ds, reading = _read([f"{d:%m/%d/%y}" for d in months])
    assert reading.order == "month-first" and ds.tolist() == list(months)


def test_regularity_is_judged_per_series():
    months = pd.date_range("2022-01-01", periods=12, freq="MS")
    values = [f"{d:%d.%m.%Y}" for d in months] * 2
    keys = ["a"] * 12 + ["b"] * 12
    ds, reading = _read(values, keys)
    assert reading.order == "day-first" and ds.nunique() == 12


def test_mixed_orders_are_refused_with_both_rows():
    with pytest.raises(
        DataError, match=r"'13.01.2024' \(data row 1\).*'01.13.2024' \(data row 3\)"
    ):
        _read(["13.01.2024", "14.01.2024", "01.13.2024"])


def test_iso_dates_stay_iso():
    ds, reading = _read(["2024-01-02", "2024-01-03"])
    assert reading.order == "year-first" and ds.iloc[0] == pd.Timestamp("2024-01-02")


def test_the_european_monthly_file_is_monthly_with_36_rows():
    data = load_csv(european_monthly())
    assert data.delimiter == ";" and data.encoding == "latin-1"
    assert data.frame["unique_id"].iloc[0] == "Artikel=Käse"
    assert data.dates.order == "day-first"
    cleaned = clean(data.frame)
    assert cleaned.freq.alias == "MS" and cleaned.report.rows_out == 36
    assert cleaned.report.gaps_filled == 0


def test_a_fill_larger_than_the_file_is_an_error_that_names_the_dates():
    # what reading dd.mm.yyyy months month-first gives: the first twelve days of each January
    days = [pd.Timestamp(year, 1, day) for year in (2021, 2022, 2023) for day in range(1, 13)]
    frame = pd.DataFrame({"unique_id": "total", "ds": days, "y": 1000.0 + pd.Series(range(36))})
    with pytest.raises(DataError) as error:
        clean(frame)
    message = str(error.value)
    assert "read as daily" in message and "dd.mm.yyyy" in message and "36 rows" in message
    # declared by the user (a file listing only the days with sales), zeros are accepted
    assert clean(frame, gap_policy="zero").report.gaps_as_zero > 36


def test_other_forms_in_the_column_keep_their_own_reading():
    ds, reading = _read(["2024-01-30", "31.01.2024", "01.02.2024"])
    assert reading.order == "day-first"
    assert ds.tolist() == list(pd.date_range("2024-01-30", periods=3))


def test_a_day_that_is_not_in_the_calendar_is_named_with_its_line():
    weeks = [f"{d:02d}.0{m}.2025" for m, d in [(1, 6), (1, 13), (1, 20), (1, 27), (2, 3)]]
    rows = "\n".join(f"{w},{i}" for i, w in enumerate([*weeks, "31.02.2025"]))
    with pytest.raises(DataError) as refused:
        load_csv(f"week,units\n{rows}\n".encode())
    message = str(refused.value)
    assert "'31.02.2025' on data row 6 (line 7 of the file)" in message
    assert "not a day of the calendar" in message and "day-first" in message
