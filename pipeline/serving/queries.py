"""Which series there are, which a scope names, their history and how each is served."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.cleaning import flag_outliers
from forecasting.data.closures import closed_rows, named_days
from forecasting.data.ladder import describe_step, upgrade_names
from forecasting.evaluation.selection import RULES
from forecasting.serving.model import SERVED
from forecasting.serving.scopes import Scope, group_column, members
from pipeline.serving import reports
from pipeline.serving.errors import MissingReport
from pipeline.serving.production import DatasetShown, ServingCache
from storage.datasets import series_rows
from storage.period_sums import (
    TOTAL,
    group_scope,
    rows_on,
    stored_sums,
    summed_in_database,
)

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
    """``ds, y, outliers, filled, filled_y`` summed over the scope: ``outliers`` 1 where
    the scope's own sum is an outlier (a series' flags for one series; a total is judged
    as the total, not marked wherever any member is), ``filled`` the series whose value
    there the gap rule made up (the file had none), ``filled_y`` what it made up. A
    closure the serving model knows (a holiday sold nothing on year after year) is what
    it expects there, not an outlier: a stranger read their Christmas marked as one."""
    shown = cache.dataset(dataset_id)
    chosen = members(scope, shown.keys)
    db = cache.system.db
    if len(chosen) == 1:
        rows = series_rows(db, shown.dataset_id, chosen[0])
        out = pd.DataFrame(
            {
                "ds": rows["ds"],
                "y": rows["y"],
                "outliers": (rows["is_outlier"] & ~_closed(cache, rows)).astype(int),
                "filled": rows["is_filled"].astype(int),
                "filled_y": rows["y"].where(rows["is_filled"], 0.0),
            }
        )
        return out
    out = _summed(db, shown, scope, chosen)
    marked = flag_outliers(out[["ds", "y"]].assign(unique_id="sum"), shown.season_length)["ds"]
    out["outliers"] = out["ds"].isin(marked).astype(int)
    out.loc[out["ds"].isin(_shut(cache, shown, chosen, out)), "outliers"] = 0
    return out[["ds", "y", "outliers", "filled", "filled_y"]]


def _summed(db, shown: DatasetShown, scope: Scope, chosen: list[str]) -> pd.DataFrame:
    """``ds, y, filled, filled_y, members`` over the scope: as written with the version, else
    summed by the database (a version stored before the sums were written)."""
    everything = len(chosen) == len(shown.keys)
    name = TOTAL if everything else _group_name(scope, shown.keys, chosen)
    stored = None if name is None else stored_sums(db, shown.dataset_id, name)
    if stored is not None:
        return stored
    return summed_in_database(db, shown.dataset_id, None if everything else chosen)


def _group_name(scope: Scope, keys: pd.DataFrame, chosen: list[str]) -> str | None:
    """The group's name in the stored sums: its column and value as the file wrote them
    (a planner may type them in another case)."""
    if not scope.group:
        return None
    column = group_column(scope.group, keys)
    value = keys.loc[keys["unique_id"] == chosen[0], column].iloc[0]
    return group_scope(column, value)


def _closed(cache: ServingCache, rows: pd.DataFrame) -> np.ndarray:
    """Which rows (``unique_id, ds``) fall on a holiday their series is closed on, as the
    serving model knows (none while nothing serves)."""
    if not cache.serves():
        return np.zeros(len(rows), bool)
    serving = cache.serving_run().serving
    return closed_rows(rows[["unique_id", "ds"]], serving.closures, serving.spec)


def _shut(
    cache: ServingCache, shown: DatasetShown, chosen: list[str], summed: pd.DataFrame
) -> list[pd.Timestamp]:
    """The periods on which every member with a row is closed, as the serving model knows:
    counted on those holidays' dates alone."""
    if not cache.serves() or summed.empty:
        return []
    serving = cache.serving_run().serving
    closures = serving.closures
    if closures is None or closures.empty:
        return []
    days = named_days(serving.spec, summed["ds"].min(), summed["ds"].max())
    closures = closures.loc[closures["unique_id"].isin(set(chosen))]
    present = summed.set_index("ds")["members"]
    shut = []
    for holiday, ids in closures.groupby("holiday")["unique_id"]:
        dates = days.loc[days["holiday"] == holiday, "ds"]
        closed = rows_on(cache.system.db, shown.dataset_id, dates.tolist(), ids)
        shut += [ds for ds, n in closed.items() if n > 0 and n == present.get(ds, -1)]
    return shut


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
