"""Choose what the product serves: the best model, or an average of the best few.

Candidates are every model plus equal-weight ensembles of the top 2..k models
by overall validation score (combinations win in M4 and M5). Selection is by
validation score, globally or per series.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from forecasting.backtest import validation_score

KEYS = ["unique_id", "ds", "cutoff"]


@dataclass
class Selection:
    members: dict[str, list[str]]
    choice: pd.Series
    scores: pd.DataFrame
    mode: str
    #: the validation forecasts, one column per candidate (calibrates the intervals)
    table: pd.DataFrame | None = None

    def served_models(self) -> set[str]:
        return {m for cand in set(self.choice) for m in self.members[cand]}


def ensemble_name(models: list[str]) -> str:
    return "ensemble(" + "+".join(models) + ")"


def candidate_table(
    cvs: dict[str, pd.DataFrame], scales: pd.DataFrame, max_ensemble: int = 3
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Wide CV table with a column per model and per ensemble candidate."""
    wide = None
    for name, cv in cvs.items():
        part = cv[[*KEYS, "y", "yhat"]].rename(columns={"yhat": name})
        wide = part if wide is None else wide.merge(part.drop(columns="y"), on=KEYS, how="inner")
    members = {name: [name] for name in cvs}
    overall = {name: float(validation_score(wide, scales, name).mean()) for name in cvs}
    ranked = sorted(overall, key=overall.get)
    for k in range(2, min(max_ensemble, len(ranked)) + 1):
        top = ranked[:k]
        name = ensemble_name(top)
        wide[name] = wide[top].mean(axis=1)
        members[name] = top
    return wide, members


def select(
    cvs: dict[str, pd.DataFrame], scales: pd.DataFrame, mode: str = "global", max_ensemble: int = 3
) -> Selection:
    """Per-series validation scores of every candidate and the choice for each series."""
    wide, members = candidate_table(cvs, scales, max_ensemble)
    scores = pd.DataFrame({name: validation_score(wide, scales, name) for name in members})
    if mode == "per_series":
        choice = scores.idxmin(axis=1)
    elif mode == "global":
        best = scores.mean().idxmin()
        choice = pd.Series(best, index=scores.index)
    else:
        raise ValueError(f"Unknown selection mode {mode!r}; use 'global' or 'per_series'.")
    return Selection(members, choice, scores, mode, wide)


def combine(forecasts: pd.DataFrame, selection: Selection, column: str = "yhat") -> pd.Series:
    """The served value per row of a wide frame with one column per model."""
    out = pd.Series(index=forecasts.index, dtype=float)
    chosen = forecasts["unique_id"].map(selection.choice)
    for cand in chosen.dropna().unique():
        rows = chosen == cand
        out[rows] = forecasts.loc[rows, selection.members[cand]].mean(axis=1)
    return out
