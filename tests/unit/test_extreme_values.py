"""A cell beyond 1e15 or infinite is refused with its row and column, never a traceback."""

from __future__ import annotations

import pytest

from forecasting.data.limits import Limits
from forecasting.data.loading import load_csv
from forecasting.errors import DataError
from tests.support.files import with_extreme_cell


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("1e308", "beyond the limit of ±1e+15"),
        ("-2e15", "beyond the limit"),
        ("inf", "not a finite"),
    ],
)
def test_an_absurd_target_names_its_row_and_column(value, says):
    with pytest.raises(DataError) as error:
        load_csv(with_extreme_cell(value, row=17))
    message = str(error.value)
    assert f"Column 'sales' has {value!r} on data row 17 (line 18 of the file)" in message
    assert says in message


def test_a_driver_is_checked_too_and_the_limit_is_inclusive():
    text = b"date,sales,price\n2024-01-01,5,1e15\n2024-01-02,6,-Infinity\n"
    with pytest.raises(DataError, match="Column 'price' has '-Infinity' on data row 2"):
        load_csv(text)
    assert load_csv(b"date,sales\n2024-01-01,1e15\n2024-01-02,6\n").frame["y"].iloc[0] == 1e15
    with pytest.raises(DataError, match="limit of ±1e\\+06"):
        load_csv(b"date,sales\n2024-01-01,2e6\n2024-01-02,6\n", limits=Limits(max_abs_value=1e6))
