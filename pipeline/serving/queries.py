"""Which series there are, which a scope names, their history and how each is served."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.cleaning import flag_outliers
from forecasting.data.closures import closed_rows
from forecasting.data.ladder import describe_step, upgrade_names
from forecasting.evaluation.selection import RULES
from forecasting.serving.model import SERVED
from forecasting.serving.scopes import Scope, members
from pipeline.serving import reports
from pipeline.serving.errors import MissingReport
from pipeline.serving.production import ServingCache

#: what the ladder serves without a model: a never-sold series' zeros, a new one's level
RULE_CANDIDATES = tuple(RULES.values())


def series_options(cache: ServingCache, dataset_id: int | None = None) -> dict[str, list[str]]:
    """Series ids (largest first) and groups (``column=value``) for selectors."""
    keys = cache.keys(dataset_id)
    if keys.empty:
        return {"series": [], "groups": []}
    series = keys.sort_values("total", ascending=False)["unique_id"].tolist()
    groups = []
    for col in keys.columns.drop(["unique_id", "total"]):
        values = keys[col].dropna().unique()
        if 1 < len(values) < len(keys):
            groups += [f"{col}={v}" for v in sorted(values, key=str)]
    return {"series": series, "groups": groups}


def history(cache: ServingCache, scope: Scope = Scope(), dataset_id: int | None = None):
    """``ds, y, outliers, filled`` summed over the scope: ``outliers`` 1 where the scope's
    own sum is an outlier (a series' flags for one series; a total is judged as the total,
    not marked wherever any member is), ``filled`` the series whose value there the gap
    rule made up (the file had none)."""
    rows = cache.dataset(dataset_id)
    chosen = members(scope, rows.keys)
    picked = rows.frame.loc[rows.frame["unique_id"].isin(chosen)]
    filled = picked["is_filled"] if "is_filled" in picked else pd.Series(False, picked.index)
    closed = _closed(cache, picked)
    out = (
        picked.assign(filled=filled.astype(int), closed=closed.astype(int))
        .groupby("ds", sort=True)
        .agg(
            y=("y", "sum"),
            outliers=("is_outlier", "sum"),
            filled=("filled", "sum"),
            closed=("closed", "sum"),
            members=("y", "size"),
        )
        .reset_index()
    )
    if len(chosen) > 1:  # the sum's own outliers
        summed = out[["ds", "y"]].assign(unique_id="sum")
        marked = flag_outliers(summed, rows.season_length)["ds"]
        out["outliers"] = out["ds"].isin(marked).astype(int)
    # a closure (a holiday sold nothing on year after year) is what the serving model
    # expects there, not an outlier: a stranger read their Christmas marked as one
    shut = out["closed"] == (out["members"] if len(chosen) > 1 else 1)
    out.loc[shut & (out["closed"] > 0), "outliers"] = 0
    return out.drop(columns=["closed", "members"])


def _closed(cache: ServingCache, picked: pd.DataFrame) -> np.ndarray:
    """Which rows fall on a holiday their series is closed on, as the serving model knows
    (none while nothing serves)."""
    if not cache.serves():
        return np.zeros(len(picked), bool)
    serving = cache.serving_run().serving
    return closed_rows(picked[["unique_id", "ds"]], serving.closures, serving.spec)


def series_details(cache: ServingCache) -> pd.DataFrame | None:
    """Per series of the serving run: ladder step, demand class, what serves it (None when
    nothing serves, or the data set shown is not the serving run's)."""
    if not cache.serves():
        return None
    prod = cache.serving_run()
    if prod.dataset_id != cache.dataset_id():
        return None
    if prod.series is None:
        try:
            prod.series = upgrade_names(cache.system.artifacts.load(prod.run["id"], "series"))
        except FileNotFoundError:  # a run from before the ladder
            prod.series = prod.serving.series_table().assign(diverged="")
    return prod.series


def series_ladder(cache: ServingCache, dataset_id: int | None = None) -> tuple[pd.DataFrame, str]:
    """Every series' ladder step and demand class, and where the table comes from: the
    serving run when it serves this data set, else the data set's EDA report."""
    dataset_id = dataset_id or cache.dataset_id()
    if dataset_id == cache.dataset_id():
        details = series_details(cache)
        if details is not None:
            return details, "the production run"
    report = reports.eda(cache, dataset_id)
    table = upgrade_names(pd.DataFrame(report["series"]))
    if "ladder_step" not in table:
        raise MissingReport("This data set's EDA report predates demand classes; re-run EDA.")
    freq = report["overview"].get("freq_name", "")
    table["ladder_note"] = [
        describe_step(t, p, freq)
        for t, p in zip(table["ladder_step"], table["periods"], strict=True)
    ]
    return table, "the EDA report (at the usual horizon; training decides what serves)"


#: the series table's columns of what serves where a plan changes it, and their words
WHEN_PLANNED = {"served_with_a_plan": "with a plan", "served_past_the_plan": "past the plan"}


def how_served(cache: ServingCache, scope: Scope, model: str | None = None) -> str | None:
    """In words, what forecasts the scope: one series' ladder step and model, or how many
    of a group's series keep a ladder forecast whatever model is asked."""
    details = series_details(cache)
    if details is None:
        return None
    chosen = members(scope, cache.serving_run().keys)
    rows = details.set_index("unique_id").reindex(chosen)
    asked = model not in (None, SERVED)
    on_rule = rows["served_by"].isin(RULE_CANDIDATES)
    if len(rows) == 1:
        row = rows.iloc[0]
        text = f"{chosen[0]}: {row['ladder_note']}; served by {row['served_by']}"
        for column, words in WHEN_PLANNED.items():  # where a plan switches what serves
            if isinstance(row.get(column), str):
                text += f" ({words}: {row[column]})"
        if asked and on_rule.iloc[0]:
            text += f", whatever model is chosen ({model} has nothing to fit here)"
        elif asked and model != row["served_by"]:  # "served by xgboost" read as a fact
            text += f"; shown here: {model}"
        return text + "."
    if asked and on_rule.any():
        return (
            f"{int(on_rule.sum())} of {len(rows)} series here are new or have never sold: "
            f"they keep their level or zero forecast, whatever model is chosen."
        )
    if asked:
        return None
    counts = rows["served_by"].value_counts()
    said = ", ".join(f"{name} for {n}" for name, n in counts.head(3).items())
    more = f" and {len(counts) - 3} more" if len(counts) > 3 else ""
    return (
        f"The {len(rows)} series here are served by {said}{more} (each series' own: /api/series)."
    )
