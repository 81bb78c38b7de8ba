"""Every rejection is a DataError whose message says what is wrong and how to fix it."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.data.dataset import prepare
from forecasting.data.limits import Limits
from forecasting.data.reading_options import ReadingOptions
from forecasting.errors import DataError


def _rows(dates) -> str:
    return "".join(f"{d},{i + 1}\n" for i, d in enumerate(dates))


WEEKS = [str(d.date()) for d in pd.date_range("2024-01-05", periods=40, freq="W-FRI")]
WEEKS[20] = "2024-05-21"  # a Tuesday among Fridays

CASES = {
    "empty file": (b"", "file is empty"),
    "blank lines only": (b"\n\n  \n", "file is empty"),
    "header only": (b"date,sales\n", "header row but no data rows"),
    "no date column": (b"store,sales\na,1\nb,2\n", "No usable date column"),
    "unparseable dates": (
        b"date,sales\n2024-01-01,1\n2024-01-02,2\nnot a date,3\n",
        "'not a date' on data row 3",
    ),
    "non-numeric target": (
        b"date,sales\n2024-01-01,one\n2024-01-02,two\n2024-01-03,three\n",
        "target column 'sales' is not numeric",
    ),
    "all-missing target": (
        b"date,sales\n2024-01-01,\n2024-01-02,\n2024-01-03,\n",
        "target column 'sales' has no values",
    ),
    "single row": (b"date,sales\n2024-01-01,5\n", "single date"),
    "irregular timestamps": (
        ("date,sales\n" + _rows(WEEKS)).encode(),
        "not a whole number of weekly periods",
    ),
    "no known frequency": (
        ("date,sales\n" + _rows(pd.date_range("2024-01-01", periods=30, freq="3D").date)).encode(),
        "step between dates is 3 days",
    ),
    "binary content": (
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00binarystuff\x00\x00",
        "not a CSV text file",
    ),
    "one column": (b"just one column\nvalue\nvalue2\n", "Only one column was found"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_problem(case):
    content, expected = CASES[case]
    with pytest.raises(DataError) as error:
        prepare(content, horizon=7)
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (Limits(max_rows=10), "more than 10 rows"),
        (Limits(max_columns=2), "7 columns, over the limit of 2"),
        (Limits(max_bytes=1000), "over the limit of 1.0 kB"),
        (Limits(max_series=3), "9 series, over the limit of 3"),
    ],
)
def test_configured_limits_are_enforced(store_item_csv, limits, expected):
    with pytest.raises(DataError, match=expected):
        prepare(store_item_csv, horizon=7, limits=limits)


def test_unknown_column_and_driver_are_named(store_item_csv):
    with pytest.raises(DataError, match="Column 'revenue' is not in the file"):
        prepare(store_item_csv, ReadingOptions(target="revenue"), horizon=7)
    with pytest.raises(DataError, match="Driver column\\(s\\) discount"):
        prepare(store_item_csv, ReadingOptions(exog=["discount"]), horizon=7)


def test_horizon_must_be_positive(store_item_csv):
    with pytest.raises(DataError, match="at least 1 period"):
        prepare(store_item_csv, horizon=0)


@pytest.mark.parametrize(
    ("asked", "says"),
    [
        (0, "from 1 to 52 periods (weeks here), got 0."),
        (2.5, "from 1 to 52 periods (weeks here), got 2.5."),
        (53, "from 1 to 52 periods (weeks here), got 53."),
        # a number box outside its bounds hands the page nothing: no "got None"
        (None, "The horizon must be a whole number from 1 to 52 periods (weeks here)."),
    ],
)
def test_the_horizon_rule_says_the_range_and_what_was_asked(asked, says):
    from forecasting.data.frequency import check_horizon, frequency_from_alias

    weekly = frequency_from_alias("W-SUN")
    assert check_horizon(52, weekly) == 52 and check_horizon(3.0, weekly) == 3
    with pytest.raises(DataError) as refused:
        check_horizon(asked, weekly)
    assert str(refused.value).endswith(says)
