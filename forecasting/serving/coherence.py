"""How a serving model's totals are made: bottom-up, or reconciled with MinT.

The value a serving model keeps (``Coherence``); it is chosen and fitted by
``forecasting.serving.reconciliation`` on the backtest's validation folds, and
read by ``forecasting.serving.requests.reconciled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

BOTTOM_UP = "bottom_up"
MINT = "mint_shrink"
#: each total forecast by its own model: reported on validation, never served (it does
#: not add up)
AGGREGATE = "aggregate_model"


@dataclass(frozen=True, eq=False)
class Coherence:
    """What serves the sums, why, and the reconciled adjustment of each series."""

    method: str
    #: per method, the validation MASE of every level and their mean
    validation: dict = field(default_factory=dict)
    levels: list[str] = field(default_factory=list)
    note: str = ""
    #: ``unique_id, ds, delta``: what reconciliation adds to the served forecast
    delta: pd.DataFrame | None = None

    def report(self) -> dict:
        return {
            "method": self.method,
            "levels": self.levels,
            "validation": self.validation,
            "note": self.note,
        }

    def describe(self) -> str:
        if not self.validation:
            return f"totals: bottom-up ({self.note})" if self.note else "totals: bottom-up"
        a, c = (self.validation[m]["mean"] for m in (BOTTOM_UP, MINT))
        chosen = "reconciled (MinT)" if self.method == MINT else "bottom-up"
        alone = self.validation.get(AGGREGATE, {}).get("mean")
        besides = f" (each total's own model {alone:.3f}, not adding up)" if alone else ""
        reconciled = f"{c:.3f}" if c == c else "not computed"  # NaN: MinT had no weights
        return (
            f"totals: {chosen} serves; validation MASE over the levels "
            f"({', '.join(self.levels)}): bottom-up {a:.3f}, reconciled {reconciled}{besides}"
        )
