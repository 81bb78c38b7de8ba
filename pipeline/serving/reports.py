"""What a run measured and a data set's reports: model scores, stored frames, EDA."""

from __future__ import annotations

import json

from forecasting.data.frequency import Frequency, frequency_from_alias
from forecasting.models import BASELINE
from forecasting.serving import effects
from forecasting.serving.model import SERVED, SERVED_WITHOUT_PLAN
from pipeline.eda_report import report_dir
from pipeline.serving.errors import MissingReport, NoDataSet, NothingServes
from pipeline.serving.production import ServingCache
from storage.datasets import dataset_info, list_datasets, sales_column
from storage.results import model_results
from storage.run_reads import get_run


def baseline_metrics(models: list[dict]) -> dict | None:
    """Held-out metrics of the seasonal-naive baseline among a run's model results."""
    return next((m["test"] for m in models if m["model"] == BASELINE), None)


def model_table(cache: ServingCache, run_id: int | None = None) -> list[dict]:
    """Every model's scores in a run (the serving run by default)."""
    run_id = run_id or cache.run_id()
    return [] if run_id is None else model_results(cache.system.db, run_id)


def scope_scores(cache: ServingCache, chosen: list[str]) -> dict[str, dict] | None:
    """The held-out scores of some of the serving run's series (``chosen``), for what
    serves, for the seasonal-naive baseline and, where drivers serve, for the served
    forecast with and without a plan: MASE the mean over those series, WAPE
    pooled over them, as the run's own are over all. None when ``chosen`` is every series
    or none of them was held out (a launch too new). A stranger read one series'
    Overview and took the whole run's scores for that series'."""
    run_id = cache.run_id()
    if run_id is None or len(chosen) >= len(cache.keys()):
        return None
    try:  # the run's own frames: the serving model is not read
        held = run_artifact(cache, "backtest", run_id)
        per_series = run_artifact(cache, "per_series", run_id)
    except FileNotFoundError:  # a run from before its held-out forecasts were kept
        return None
    wanted = set(chosen)
    rows = held.loc[held["unique_id"].isin(wanted)]
    if rows.empty:
        return None
    scored = per_series.loc[per_series["unique_id"].isin(wanted)]
    headline = (get_run(cache.system.db, run_id).get("metrics") or {}).get("headline")
    served = SERVED_WITHOUT_PLAN if headline == "without_plan" else SERVED
    volume = rows["y"].abs().sum()
    out = {"series": int(rows["unique_id"].nunique())}
    named = (
        ("served", served),
        ("baseline", BASELINE),
        ("with_plan", SERVED),
        ("without_plan", SERVED_WITHOUT_PLAN),
    )
    for key, model in named:
        if model in rows:
            error = (rows[model] - rows["y"]).abs().sum()
            mase = scored.loc[scored["model"] == model, "mase"].mean()
            out[key] = {"wape": error / volume * 100 if volume else None, "mase": mase}
    return out


def run_artifact(cache: ServingCache, name: str, run_id: int | None = None):
    """A stored frame of a run (``per_series`` test metrics, ``backtest`` forecasts)."""
    run_id = run_id or cache.run_id()
    if run_id is None:
        raise NothingServes("No model serves yet.")
    return cache.system.artifacts.load(run_id, name)


def feature_importance(cache: ServingCache) -> dict[str, dict[str, float]]:
    """Per tree model of the serving run, each feature's importance."""
    out = {}
    for name, model in cache.serving_run().serving.fitted.items():
        importance = model.feature_importance()
        if importance is not None:
            out[name] = importance.round(6).to_dict()
    return out


def eda(cache: ServingCache, dataset_id: int | None = None) -> dict:
    """A data set's EDA report (the one shown by default)."""
    dataset_id = dataset_id or cache.dataset_id()
    if dataset_id is None:
        raise NoDataSet("No data set is stored yet: upload a CSV first.")
    path = report_dir(cache.system.settings.reports_dir, dataset_id) / "report.json"
    if not path.is_file():
        if dataset_info(cache.system.db, dataset_id) is None:  # a removed one too
            raise MissingReport(f"Data set version {dataset_id} does not exist.")
        raise MissingReport(f"Data set version {dataset_id} has no EDA report yet.")
    return {"dataset_id": dataset_id, **json.loads(path.read_text())}


def eda_figure(cache: ServingCache, name: str, dataset_id: int | None = None) -> str | None:
    """A saved Plotly figure as JSON text, or None when the report has no such figure."""
    dataset_id = dataset_id or cache.dataset_id()
    if dataset_id is None or not name.isidentifier():
        return None
    path = report_dir(cache.system.settings.reports_dir, dataset_id) / f"{name}.json"
    return path.read_text() if path.is_file() else None


def dataset(cache: ServingCache, dataset_id: int | None = None) -> dict | None:
    """A data set version's description (the one shown by default)."""
    dataset_id = dataset_id or cache.dataset_id()
    return dataset_info(cache.system.db, dataset_id) if dataset_id else None


def datasets(cache: ServingCache) -> dict:
    """Every stored data set version, newest first, and which one serves and which one a
    run started without a version trains."""
    run_id, shown = cache.generation()
    serving = shown if run_id is not None else None
    versions = [
        {
            **{k: info[k] for k in ("id", "source_name", "freq", "country", "series", "rows")},
            **{k: info[k] for k in ("start", "end", "created_at", "parent_id")},
            "sales_column": sales_column(info),
            "drivers": list(info.get("exog") or []),
            "serving": info["id"] == serving,
        }
        for info in list_datasets(cache.system.db)
    ]
    latest = versions[0]["id"] if versions else None
    return {"datasets": versions, "latest_dataset_id": latest, "serving_dataset_id": serving}


def quantity(cache: ServingCache, dataset_id: int | None = None) -> tuple[str, Frequency]:
    """What the data set measures (its target column's name) and its frequency."""
    info = dataset(cache, dataset_id) or {}
    return sales_column(info) or "sales", frequency_from_alias(info.get("freq") or "D")


def driver_effects(cache: ServingCache) -> dict:
    """The serving run's drivers: role, whether used, and the served model's price
    elasticity or promotion lift per series and per group (``forecasting.serving.effects``)."""
    prod = cache.serving_run()
    spec = prod.serving.spec
    try:
        per_series = cache.system.artifacts.load(prod.run["id"], "effects")
    except FileNotFoundError:  # a run from before effects were stored
        per_series = effects.driver_effects(prod.serving)
    attributes = prod.keys.drop(columns=["total"], errors="ignore")
    groups = effects.group_effects(per_series, attributes)
    screened = (prod.run.get("metrics") or {}).get("drivers", {})
    return {
        "run_id": prod.run["id"],
        "constrained": spec.constrained,
        "drivers": [
            {"name": name, "role": spec.role(name), "used": True, **screened.get(name, {})}
            for name in spec.exog
        ]
        + [
            {"name": name, "role": "other", **row}
            for name, row in screened.items()
            if name not in spec.exog
        ],
        "groups": groups.to_dict("records"),
        "series": per_series.to_dict("records"),
    }


def tuning_study(cache: ServingCache, model: str):
    """The Optuna study that tuned ``model`` in the serving run (``MissingReport`` when
    the store no longer holds it)."""
    import optuna  # a second to import: only the Models page's tuning charts need it

    from pipeline.system import optuna_storage

    row = next((m for m in model_table(cache) if m["model"] == model), None)
    if row is None or not row.get("study_name"):
        raise MissingReport(f"{model} was not tuned in the serving run.")
    try:
        return optuna.load_study(
            study_name=row["study_name"], storage=optuna_storage(cache.system.settings)
        )
    except KeyError:
        raise MissingReport(f"The study {row['study_name']} is no longer stored.") from None
