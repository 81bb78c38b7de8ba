"""What production serves: the refitted models, how they combine, and how wide the bands are.

A ``ServingModel`` forecasts any horizon from its own state (no data set
needed), for the served combination or any single trained model, so the
command line, the web app and the MLflow pyfunc all forecast the same way.
Bands past the validated horizon reuse the last validated step's width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.intervals import apply_intervals, conformal_quantiles
from forecasting.metrics import naive_scale
from forecasting.models import Forecaster
from forecasting.selection import Selection, combine
from forecasting.spec import DataSpec

SERVED = "selected"


@dataclass
class ServingModel:
    fitted: dict[str, Forecaster]
    members: dict[str, list[str]]
    #: served candidate per series (a model or an ensemble name)
    choice: pd.Series
    #: conformal quantiles per candidate: rows are horizon steps, columns levels
    quantiles: dict[str, pd.DataFrame]
    scale: pd.Series
    nonnegative: pd.Series
    spec: DataSpec
    #: the horizon the intervals were validated for
    horizon: int

    @property
    def models(self) -> list[str]:
        return list(self.fitted)

    @property
    def series(self) -> list[str]:
        return list(self.choice.index)

    def served_models(self) -> set[str]:
        return {m for cand in set(self.choice) for m in self.members.get(cand, [cand])}

    def only(self, name: str) -> ServingModel:
        """The same, serving one trained model for every series (for per-model tracking)."""
        return ServingModel(
            {name: self.fitted[name]},
            {name: [name]},
            self.choice.map(lambda _: name),
            {name: self.quantiles[name]},
            self.scale,
            self.nonnegative,
            self.spec,
            self.horizon,
        )

    def describe(self) -> str:
        kinds = self.choice.value_counts()
        if len(kinds) == 1:
            return str(kinds.index[0])
        return "per series: " + ", ".join(f"{k} ({v})" for k, v in kinds.items())

    def forecast(
        self,
        h: int,
        future: pd.DataFrame | None = None,
        model: str | None = None,
        series: list[str] | None = None,
    ) -> pd.DataFrame:
        """``unique_id, ds, yhat, lo80, hi80, lo95, hi95, model`` for ``h`` periods."""
        served, _ = self.forecast_with_members(h, future, model, series)
        return served

    def forecast_with_members(
        self,
        h: int,
        future: pd.DataFrame | None = None,
        model: str | None = None,
        series: list[str] | None = None,
        every_model: bool = False,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The served forecast and the wide frame of the model forecasts it combines
        (every trained model's with ``every_model``, as a backtest scores them all)."""
        if model is not None and model not in self.fitted and model != SERVED:
            raise DataError(f"Unknown model {model!r}; trained: {', '.join(self.fitted)}.")
        if series:
            unknown = sorted(set(series) - set(self.choice.index))
            if unknown:
                raise DataError(f"Unknown series {', '.join(unknown[:5])}.")
        choice = self.choice if model in (None, SERVED) else self.choice.map(lambda _: model)
        needed = {m for cand in set(choice) for m in self.members.get(cand, [cand])}
        needed = [m for m in self.fitted if every_model or m in needed]
        wide = None
        for name in needed:
            pred = self.fitted[name].predict(h, future).rename(columns={"yhat": name})
            wide = pred if wide is None else wide.merge(pred, on=["unique_id", "ds"])
        if series:
            wide = wide.loc[wide["unique_id"].isin(series)].reset_index(drop=True)
        served = wide[["unique_id", "ds"]].copy()
        selection = Selection(self.members, choice, pd.DataFrame(), "stored")
        served["yhat"] = combine(wide, selection)
        served["model"] = served["unique_id"].map(choice)
        parts = []
        for cand, rows in served.groupby("model", sort=False):
            parts.append(apply_intervals(rows, self.quantiles[cand], self.scale, self.nonnegative))
        served = pd.concat(parts).sort_index()
        return served, wide


def serving_model(
    fitted: dict[str, Forecaster],
    selection: Selection,
    df: pd.DataFrame,
    spec: DataSpec,
    horizon: int,
) -> ServingModel:
    """Bundle refitted models with intervals calibrated on the validation folds only."""
    validation = selection.table
    scale = df.groupby("unique_id", sort=False)["y"].apply(
        lambda y: naive_scale(y.to_numpy(float), spec.season_length, 1)
    )
    nonnegative = df.groupby("unique_id", sort=False)["y"].min() >= 0
    candidates = set(selection.choice) | set(fitted)
    quantiles = {
        cand: conformal_quantiles(validation, scale, cand)
        for cand in candidates
        if cand in validation
    }
    for name in set(fitted) - set(quantiles):  # a model with no validation column: no band
        quantiles[name] = pd.DataFrame({80: [np.nan], 95: [np.nan]})
    members = {c: m for c, m in selection.members.items() if set(m) <= set(fitted)}
    return ServingModel(
        fitted, members, selection.choice, quantiles, scale, nonnegative, spec, horizon
    )
