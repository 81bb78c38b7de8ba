"""Calendar and holiday features of a date, known in advance for any future period."""

from __future__ import annotations

from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from forecasting.data.frequency import Frequency
from forecasting.errors import DataError


class UnknownCountry(DataError):
    """A holiday calendar the ``holidays`` package does not know; the API's 422 names it."""

    field = "country"


def check_country(country: str) -> str:
    """``country`` (an ISO code, any case) as the calendar's code, or ``UnknownCountry``
    saying so: an upload with ``country=XX`` was stored, and only training refused it."""
    code = country.strip().upper()
    if code not in holidays.list_supported_countries(include_aliases=True):
        raise UnknownCountry(
            f"Unknown holiday country {country!r}. Use an ISO code such as US, GB, DE, FR "
            "or EC, or none for no holidays."
        )
    return code


@lru_cache(maxsize=32)
def _holiday_dates(country: str, first_year: int, last_year: int) -> np.ndarray:
    try:
        calendar = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError as exc:
        raise DataError(
            f"Unknown holiday country {country!r}. Use an ISO code such as US, GB, DE or EC."
        ) from exc
    return np.array(sorted(pd.Timestamp(d) for d in calendar), dtype="datetime64[ns]")


def holiday_days(country: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The calendar's holidays from ``start`` to ``end``."""
    days = pd.DatetimeIndex(_holiday_dates(country, start.year, end.year))
    return days[(days >= start) & (days <= end)]


def holiday_table(country: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Holiday dates and names for Prophet-style models."""
    calendar = holidays.country_holidays(country, years=range(start.year, end.year + 1))
    return pd.DataFrame(
        {"ds": pd.to_datetime(list(calendar.keys())), "holiday": list(calendar.values())}
    ).sort_values("ds")


def calendar_features(
    dates: pd.DatetimeIndex, freq: Frequency, country: str | None
) -> pd.DataFrame:
    """Calendar parts and holiday proximity for each date (no information from y)."""
    dates = pd.DatetimeIndex(dates)
    out = {"month": dates.month.to_numpy()}
    if freq.alias == "D":
        out |= {
            "dayofweek": dates.dayofweek.to_numpy(),
            "dayofmonth": dates.day.to_numpy(),
            "dayofyear": dates.dayofyear.to_numpy(),
        }
    elif freq.alias.startswith("W"):
        out |= {
            "weekofyear": dates.isocalendar().week.to_numpy().astype(int),
            "dayofmonth": dates.day.to_numpy(),
        }
    if country:
        out |= _holiday_features(dates, freq, country)
    return pd.DataFrame(out, index=dates)


def _holiday_features(dates: pd.DatetimeIndex, freq: Frequency, country: str) -> dict:
    days = _holiday_dates(country, int(dates.min().year) - 1, int(dates.max().year) + 1)
    values = dates.to_numpy(dtype="datetime64[ns]")
    after = np.searchsorted(days, values, side="left")
    nxt = days[np.minimum(after, len(days) - 1)]
    prev = days[np.maximum(np.searchsorted(days, values, side="right") - 1, 0)]
    to_next = (nxt - values) / np.timedelta64(1, "D")
    since_prev = (values - prev) / np.timedelta64(1, "D")
    to_next = np.where(to_next < 0, 99, to_next)
    since_prev = np.where(since_prev < 0, 99, since_prev)
    if freq.alias == "D":
        return {
            "holiday": (to_next == 0).astype(int),
            "days_to_holiday": np.minimum(to_next, 15),
            "days_since_holiday": np.minimum(since_prev, 15),
        }
    span = 7 if freq.alias.startswith("W") else 31
    # Holidays falling inside the period that ends on (weekly) or starts on (monthly) the date.
    if freq.alias.startswith("W"):
        lo, hi = values - np.timedelta64(6, "D"), values
    else:
        lo = values
        hi = (dates + pd.offsets.MonthEnd(0)).to_numpy(dtype="datetime64[ns]")
    count = np.searchsorted(days, hi, side="right") - np.searchsorted(days, lo, side="left")
    return {"holidays_in_period": count, "days_to_holiday": np.minimum(to_next, 3 * span)}
