"""Whatever bytes arrive, the loader returns a long frame or raises DataError, nothing else."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.data.dataset import prepare
from forecasting.errors import DataError

CELLS = st.one_of(
    st.dates().map(str),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "TRUE", "false", "n/a", "1,5", "1.234,5", '"1,234"', "x;y"]),
    st.text(max_size=8),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes(raw):
    try:
        data = prepare(raw, horizon=2)
    except DataError:
        return
    assert {"unique_id", "ds", "y"} <= set(data.frame.columns)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(["date", "sales", "store", "promo", "x"]),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    st.lists(st.lists(CELLS, min_size=4, max_size=4), min_size=0, max_size=30),
    st.sampled_from([",", ";"]),
)
def test_csv_shaped_input(header, rows, sep):
    text = sep.join(header) + "\n" + "\n".join(sep.join(r[: len(header)]) for r in rows)
    try:
        data = prepare(text.encode(), horizon=2)
    except DataError:
        return
    frame = data.frame
    assert frame["y"].notna().all()
    assert not frame.duplicated(["unique_id", "ds"]).any()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 60),
    st.sampled_from(["D", "W-FRI", "MS"]),
    st.lists(st.integers(-5, 500), min_size=60, max_size=60),
    st.lists(st.tuples(st.integers(0, 59), CELLS), max_size=2),
    st.lists(st.booleans(), min_size=60, max_size=60),
    st.lists(st.sampled_from(["a", "b"]), min_size=60, max_size=60),
)
def test_mostly_regular_sales_with_junk(n, alias, sales, junk, keep, stores):
    """Regular dates, a little junk, gaps and two stores: load and clean, or a DataError."""
    cells = [str(v) for v in sales]
    for i, value in junk:
        cells[i] = value
    dates = pd.date_range("2023-01-06", periods=n, freq=alias)
    lines = ["date,store,sales"] + [
        f"{d.date()},{stores[i]},{cells[i]}" for i, d in enumerate(dates) if keep[i] or i < 3
    ]
    try:
        data = prepare("\n".join(lines).encode(), horizon=2)
    except DataError:
        return
    frame = data.frame
    assert frame["y"].notna().all()
    assert frame.groupby("unique_id")["ds"].apply(lambda d: d.is_monotonic_increasing).all()
    assert data.cleaned.report.series == frame["unique_id"].nunique()


@pytest.mark.parametrize(
    "text",
    [
        # a row with a field more than the header: pandas took the first column for labels
        "date,sales\n2024-01-01,1,5\n2024-01-02,x\n2024-01-03,3\n",
        # dates too far apart to subtract in nanoseconds
        "date,sales\n1677-09-22,1\n2262-04-10,2\n1677-09-23,3\n",
    ],
)
def test_what_the_fuzzer_found_is_read_or_refused_clearly(text):
    try:
        data = prepare(text.encode(), horizon=2)
    except DataError as refused:
        assert str(refused)
        return
    assert data.frame["y"].notna().all()


def test_a_row_with_a_field_more_than_the_header_is_refused_by_line():
    """In the first data row pandas dropped the extra field with a warning only (a later
    row is refused by its parser): a value, here sales written with a decimal comma in a
    comma-separated file, lost without a word."""
    text = "date,sales\n2024-01-01,12,5\n2024-01-02,10\n2024-01-03,11\n2024-01-04,13\n"
    with pytest.raises(DataError, match=r"Line 2 has 3 fields where the header has 2") as got:
        prepare(text.encode(), horizon=2)
    assert "nothing was read" in str(got.value)


def test_a_delimiter_ending_every_data_row_still_reads():
    """Some exports end each data row with the delimiter and the header without it: the
    empty field loses nothing, and the file reads as before."""
    text = "date,sales\n" + "".join(f"2024-01-{d:02d},{10 + d},\n" for d in range(1, 9))
    data = prepare(text.encode(), horizon=2)
    assert data.frame["y"].tolist() == [float(10 + d) for d in range(1, 9)]
