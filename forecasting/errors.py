"""The one error type that bad input raises.

A ``DataError`` message is shown to the analyst as it is, so it names what is
wrong (column, row or series) and says how to fix it.
"""


class DataError(ValueError):
    """Input that cannot be turned into a forecastable data set."""
