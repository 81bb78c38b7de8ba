"""Realised accuracy: a run's stored forecast against the actuals that arrived since.

The actuals are the newest data set version's: appending new actuals makes a
version that holds them (``forecasting.data.appending``). Each series' history before
its first forecast period, in the version the run was trained on, scales MASE and
RMSSE, as in the backtest. Results are
kept per (run, newest version), so a page that lists every run asks the database
once per new upload.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd

from forecasting.data.frequency import frequency_from_alias
from forecasting.data.partitions import PARTITION_ROWS
from forecasting.evaluation.metrics import naive_scales
from forecasting.evaluation.realised import (
    MIN_PERIODS,
    Drift,
    Realised,
    judge_drift,
    realised_accuracy,
)
from pipeline.json_output import json_safe
from pipeline.serving.errors import NoDataSet, NoForecast, OtherSales
from pipeline.serving.production import ServingCache
from pipeline.serving.queries import Scope, history, members
from pipeline.serving_store import load_serving
from storage import run_reads
from storage.datasets import dataset_info, dataset_parts, latest_dataset_id, sales_column
from storage.results import stored_forecasts

#: per (database, run, newest version): a process may read more than one database
#: (a run refused for another sales column is kept as its refusal)
_kept: dict[tuple[str, int, int], tuple[Realised, dict] | OtherSales] = {}
_lock = threading.Lock()


def realised(cache: ServingCache, run_id: int | None = None) -> tuple[Realised, dict]:
    """How run ``run_id`` (the serving one by default) did, and its run row.

    ``KeyError``: no such run; ``NoForecast``: it has no stored forecast to score."""
    db = cache.system.db
    run_id = run_id or cache.run_id()
    if run_id is None:
        raise NoForecast("No model serves yet: train one first.")
    run = run_reads.get_run(db, run_id)
    if run is None:
        raise KeyError(run_id)
    if run["status"] != "succeeded" or not run["selected_model"]:
        raise NoForecast(
            f"Run {run_id} is a {run['status']} {run['kind']} run: it stored no forecast."
        )
    if run["pruned"]:
        raise NoForecast(f"Run {run_id} was pruned (KEEP_RUNS): its stored forecast is gone.")
    latest = latest_dataset_id(db)
    if latest is None:
        raise NoDataSet("No data set is stored yet.")
    key = (str(db.url), run_id, latest)
    with _lock:
        kept = _kept.get(key)
    if isinstance(kept, OtherSales):
        raise kept
    if kept is not None:
        return kept
    info = dataset_info(db, latest)
    trained_on = dataset_info(db, run["dataset_id"]) if run.get("dataset_id") else None
    try:
        _same_sales(run, trained_on, info)
    except OtherSales as refused:
        _keep(key, refused)
        raise
    forecast = stored_forecasts(db, run_id, until=pd.Timestamp(info["end"]))
    first = forecast.groupby("unique_id")["ds"].min()
    # the scales come from the history the run was trained on: a later version may hold
    # less of it (a Replace with a recent export), and the same forecast's MASE moved
    # from 3.731 to 2.356 as versions were added, its WAPE 32.0% both times
    again = trained_on is not None and run["dataset_id"] != latest
    season = frequency_from_alias(info["freq"]).season_length
    actuals, scales = [], []
    # nothing to read before the stored forecast's first period has an actual
    for part in dataset_parts(db, latest, PARTITION_ROWS) if len(forecast) else ():
        starts = part["unique_id"].map(first)
        actuals.append(part.loc[part["ds"] >= starts, ["unique_id", "ds", "y"]])
        if not again:
            scales.append(naive_scales(part.loc[part["ds"] < starts], season))
    if again and len(forecast):
        for part in dataset_parts(db, run["dataset_id"], PARTITION_ROWS):
            before = part.loc[part["ds"] < part["unique_id"].map(first)]
            scales.append(naive_scales(before, season))
    actuals = pd.concat(actuals) if actuals else _NO_ACTUALS
    scales = pd.concat(scales) if scales else pd.DataFrame(columns=["abs", "sq"], dtype=float)
    scored = realised_accuracy(forecast, actuals, None, season, scales)
    result = scored, run
    _keep(key, result)
    return result


_NO_ACTUALS = pd.DataFrame(
    {"unique_id": pd.Series(dtype=object), "ds": pd.Series(dtype="datetime64[ns]"), "y": 0.0}
)


def _keep(key: tuple[str, int, int], answer: tuple[Realised, dict] | OtherSales) -> None:
    """Keep a run's answer for the newest version, forgetting those for older ones."""
    with _lock:
        for old in [k for k in _kept if k[0] == key[0] and k[2] != key[2]]:  # a newer version
            del _kept[old]
        _kept[key] = answer


def _same_sales(run: dict, trained_on: dict | None, newest: dict) -> None:
    """A forecast of one column is never scored against another's actuals (a stranger's
    revenue run was scored against units: MASE 20.9, "drift")."""
    was, now = sales_column(trained_on), sales_column(newest)
    if was and now and was != now:
        raise OtherSales(
            f"Run {run['id']} forecast {was!r}; the newest data set version "
            f"({newest['id']}) reads {now!r} as the sales, so its actuals do not score it."
        )


def report(cache: ServingCache, run_id: int | None = None) -> dict:
    """The whole answer, as ``GET /api/accuracy`` and ``pipeline accuracy`` give it."""
    result, run = realised(cache, run_id)
    return json_safe(
        {
            "run_id": run["id"],
            "dataset_id": latest_dataset_id(cache.system.db),
            "periods": result.periods,
            "points": result.points,
            **result.overall,
            "promised": promised(run),
            "drift": vars(drift(result, run)),
            "series": result.series.to_dict("records"),
            "steps": result.steps.to_dict("records"),
        }
    )


def describe(answer: dict) -> str:
    """The answer in words: realised against promised, and the drift verdict."""
    run, promised_ = answer["run_id"], answer["promised"]
    if not answer["periods"]:
        return (
            f"run {run}: no actuals for its forecast periods yet; add them with "
            "python -m pipeline ingest --csv FILE --append"
        )
    lines = [
        f"run {run}: {answer['periods']} forecast periods have actuals ({answer['first']} to "
        f"{answer['last']}, {answer['series_count']} series, {answer['points']} points)"
    ]
    for name, label in (
        ("mase", "MASE"),
        ("rmsse", "RMSSE"),
        ("wape", "WAPE"),
        ("bias", "bias"),
        ("coverage80", "80% band"),
        ("coverage95", "95% band"),
    ):
        got, then = answer.get(name), promised_.get(name)
        percent = name not in ("mase", "rmsse")
        got, then = (_shown(v, percent) for v in (got, then))
        lines.append(f"  {label:<9} realised {got:>8}   held out {then:>8}")
    verdict = answer["drift"]
    lines.append(
        ("DRIFT: " if verdict["drifted"] else "no drift: ")
        + verdict["why"]
        + ("; retrain: python -m pipeline train" if verdict["drifted"] else "")
    )
    return "\n".join(lines)


def _shown(value, percent: bool) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def drift(realised_: Realised, run: dict) -> Drift:
    """Whether run ``run`` drifted, by ``forecasting.evaluation.realised``'s rule."""
    metrics = run.get("metrics") or {}
    return judge_drift(realised_, promised(run)["wape"], metrics.get("horizon") or MIN_PERIODS)


def promised(run: dict) -> dict:
    """What the run's backtest promised, on the same scales as the realised figures."""
    m = run.get("metrics") or {}

    def fraction(key: str):
        return None if m.get(key) is None else m[key] / 100

    return {
        "mase": m.get("mase"),
        "rmsse": m.get("rmsse"),
        "wape": fraction("wape"),
        "bias": fraction("bias"),
        "coverage80": m.get("coverage80"),
        "coverage95": m.get("coverage95"),
    }


def every_run(cache: ServingCache, limit: int = 50) -> list[dict]:
    """Each succeeded training run: held-out and realised scores (None before actuals)."""
    out = []
    columns: dict[int, str | None] = {}  # the sales column of each data set version
    for run in run_reads.list_runs(cache.system.db, limit):
        if run["status"] != "succeeded" or not run["selected_model"]:
            continue
        version = run["dataset_id"]
        if version not in columns:
            columns[version] = (
                sales_column(dataset_info(cache.system.db, version)) if version else None
            )
        row = {"run": run, "promised": promised(run), "realised": None, "periods": 0,
               "sales": columns[version], "other_sales": False}  # fmt: skip
        if not run["pruned"]:
            try:
                result, _ = realised(cache, run["id"])
            except OtherSales:
                result, row["other_sales"] = None, True
            except (NoForecast, NoDataSet):
                result = None
            if result is not None and result.periods:
                row["realised"], row["periods"] = result.overall, result.periods
        out.append(row)
    return out


@dataclass(frozen=True)
class Comparison:
    """A run's stored forecast for one scope next to what happened."""

    run: dict
    realised: Realised
    #: ``ds, yhat`` and bands, summed over the scope (bands of the sum's own)
    forecast: pd.DataFrame
    #: ``ds, y, outliers`` of the scope from the newest version: the history and the
    #: actuals that arrived
    history: pd.DataFrame


def last_scored(cache: ServingCache) -> tuple[Realised, dict] | None:
    """The newest run whose stored forecast has actuals (the serving one, once its
    periods arrive), or None."""
    for row in every_run(cache):
        if row["periods"]:
            return realised(cache, row["run"]["id"])
    return None


def against_actuals(cache: ServingCache, scope: Scope) -> Comparison | None:
    """The newest scored run's forecast of ``scope`` over the periods that have actuals."""
    found = last_scored(cache)
    if found is None:
        return None
    result, run = found
    latest = latest_dataset_id(cache.system.db)
    chosen = members(scope, cache.keys(latest))
    rows = result.rows.loc[result.rows["unique_id"].isin(chosen)]
    if rows.empty:
        return None
    if len(chosen) == 1:
        summed = rows.drop(columns=["unique_id", "y"])
    else:
        if cache.run_id() == run["id"]:
            model = cache.serving_run().serving
        else:
            model = load_serving(cache.system.artifacts, run["id"])
        summed = model.sum_forecast(rows.drop(columns="y").assign(extrapolated=False))
    return Comparison(run, result, summed, history(cache, scope, latest))
