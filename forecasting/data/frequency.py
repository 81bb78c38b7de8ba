"""Infer a data set's period (daily, weekly, monthly) and its seasonal length."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from forecasting.errors import DataError

_WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@dataclass(frozen=True)
class Frequency:
    """A regular period: its pandas alias, a human name and the seasonal length."""

    alias: str
    name: str
    season_length: int

    @property
    def periods_per_year(self) -> int:
        """365 days, 52 weeks or 12 months."""
        return {"daily": 365, "monthly": 12}.get(self.name, 52)

    @property
    def recent_periods(self) -> int:
        """What "lately" means for a recent mean: 28 days, 8 weeks or 6 months."""
        return {"daily": 28, "monthly": 6}.get(self.name, 8)

    @property
    def days_per_period(self) -> float:
        """1 for a day, 7 for a week, a mean month's 30.44 days."""
        return {"daily": 1.0, "monthly": 30.44}.get(self.name, 7.0)


def season_length_for(alias: str) -> int:
    if alias.startswith("W"):
        return 52
    if alias in ("MS", "ME", "M"):
        return 12
    return 7


def frequency_from_alias(alias: str) -> Frequency:
    names = {"D": "daily", "MS": "monthly", "ME": "monthly"}
    name = "weekly" if alias.startswith("W") else names.get(alias, alias)
    return Frequency(alias, name, season_length_for(alias))


def infer_frequency(df: pd.DataFrame, id_col: str = "unique_id", time_col: str = "ds") -> Frequency:
    """Infer the period from the most common step between consecutive dates of each series.

    Steps that are whole multiples of the period are gaps (filled later); any other
    step means the timestamps fit no regular frequency and the data is rejected.
    """
    frame = df[[id_col, time_col]].drop_duplicates().sort_values([id_col, time_col])
    try:
        steps = frame.groupby(id_col, sort=False)[time_col].diff().dropna().dt.days
    except OverflowError:  # a fuzzed file's dates 1677 and 2262 are too far apart to subtract
        raise DataError(
            "The dates span more than 584 years; check the date column (a number read as a date?)."
        ) from None
    steps = steps[steps > 0]
    if steps.empty:
        raise DataError(
            "Every series has a single date, so no frequency can be inferred. "
            "Provide at least two periods per series."
        )
    mode = int(steps.mode().iloc[0])
    dates = frame[time_col]
    if mode == 1:
        freq = frequency_from_alias("D")
        bad = steps[steps % 1 != 0]
    elif mode == 7:
        weekday = _WEEKDAYS[int(dates.dt.dayofweek.mode().iloc[0])]
        freq = frequency_from_alias(f"W-{weekday}")
        bad = steps[steps % 7 != 0]
    elif 28 <= mode <= 31:
        if (dates.dt.day == 1).mean() > 0.95:
            freq = frequency_from_alias("MS")
        elif dates.dt.is_month_end.mean() > 0.95:
            freq = frequency_from_alias("ME")
        else:
            raise DataError(
                "Monthly dates must all fall on the first or all on the last day of the "
                f"month; found days {sorted(dates.dt.day.unique().tolist())[:6]}. "
                "Re-date each month to its first day."
            )
        bad = pd.Series([], dtype=float)
    else:
        raise DataError(
            f"The most common step between dates is {mode} days, which is not daily, weekly "
            "or monthly. Aggregate the data to one of those periods before uploading."
        )
    if len(bad) > 0:
        raise DataError(
            f"Timestamps are irregular: {len(bad)} step(s) between consecutive dates are not "
            f"a whole number of {freq.name} periods (for example {int(bad.iloc[0])} days). "
            f"Aggregate the data to one row per {freq.name} period."
        )
    return freq


#: what one period is called (plural), by the frequency's name
UNITS = {"daily": "days", "weekly": "weeks", "monthly": "months"}


def period_unit(freq: Frequency) -> str:
    """The period in words, plural: days, weeks, months."""
    return UNITS.get(freq.name, "periods")


def future_dates(last: pd.Timestamp, h: int, freq: Frequency) -> pd.DatetimeIndex:
    """The h periods after ``last``."""
    return pd.date_range(last, periods=h + 1, freq=freq.alias)[1:]


def default_horizon(freq: Frequency) -> int:
    """A forecast length analysts ask for first: four weeks, a quarter, a year of months."""
    if freq.alias.startswith("W"):
        return 13
    if freq.season_length == 12:
        return 12
    return 28


def max_horizon(freq: Frequency) -> int:
    """The longest forecast offered: a year, in the data's own periods."""
    if freq.alias.startswith("W"):
        return 52
    if freq.season_length == 12:
        return 12
    return 365


def check_horizon(
    h: float | None, freq: Frequency | None = None, error: type[DataError] = DataError
) -> int:
    """The horizon rule, stated once for every caller (the command line, the API, the
    pages, a model's predict): a whole number of periods, at least 1, and where the
    data's frequency is known at most ``max_horizon`` (2.5 is refused, not cut to 2).
    Raises ``error`` saying the range."""
    limit = max_horizon(freq) if freq is not None else None
    whole = isinstance(h, int | float) and not isinstance(h, bool) and float(h).is_integer()
    if whole and h >= 1 and (limit is None or h <= limit):
        return int(h)
    # a number box outside its bounds hands over nothing: say the rule, not "got None"
    got = "" if h is None else f", got {h}"
    if limit is None:
        raise error(f"The horizon must be a whole number of at least 1 period{got}.")
    unit = period_unit(freq)
    here = f" ({unit} here)" if unit != "periods" else ""
    raise error(f"The horizon must be a whole number from 1 to {limit} periods{here}{got}.")


def stored_horizon(freq: Frequency, h: int) -> int:
    """How far ahead a run stores its forecast: a year, or its horizon if longer."""
    return max(h, max_horizon(freq))
