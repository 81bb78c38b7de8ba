"""Held-out accuracy of the served forecast next to statistical peers, same protocol.

For each data set: hold out the last H periods of every series; our workflow
(tuning, selection, intervals) sees only the rest; the peers (statsforecast
and Prophet with defaults) are fitted on the same rows; every forecast is
scored by the same metric functions. Prints mean MASE, mean RMSSE, pooled
WAPE and seconds per method.

    pip install -e '.[bench]'
    python bench/accuracy.py --data ../shared/data --trials 20
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from forecasting.backtest import split
from forecasting.dataset import prepare
from forecasting.metrics import evaluate, summarize
from forecasting.workflow import SELECTED, TrainOptions, backtest

DATASETS = {
    "favorita": ("favorita_store_transactions_daily/transactions.csv", 28, "EC", None),
    "walmart": ("walmart_store_dept_weekly/train.csv", 13, "US", "full_history"),
    "ecommerce": ("ecommerce_sales_daily/ecommerce_sales_data.csv", 28, "US", None),
}
PEERS = [
    "naive",
    "seasonal_naive_sf",
    "croston",
    "adida",
    "imapa",
    "autoets",
    "autoarima",
    "autotheta",
    "prophet_default",
]


def full_history_csv(path: Path) -> Path:
    """The Walmart store x dept series present in every week of the file."""
    raw = pd.read_csv(path)
    weeks = raw["Date"].nunique()
    counts = raw.groupby(["Store", "Dept"])["Date"].transform("nunique")
    out = Path(tempfile.mkdtemp()) / "walmart_full_history.csv"
    raw.loc[counts == weeks].to_csv(out, index=False)
    return out


def statsforecast_peers(train: pd.DataFrame, h: int, freq: str, m: int, names: list[str]):
    from statsforecast import StatsForecast
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
        Naive,
        SeasonalNaive,
    )

    table = {
        "naive": lambda: Naive(),
        "seasonal_naive_sf": lambda: SeasonalNaive(season_length=m, alias="seasonal_naive_sf"),
        "croston": lambda: CrostonOptimized(alias="croston"),
        "adida": lambda: ADIDA(alias="adida"),
        "imapa": lambda: IMAPA(alias="imapa"),
        "autoets": lambda: AutoETS(season_length=m, alias="autoets"),
        "autoarima": lambda: AutoARIMA(season_length=m, alias="autoarima"),
        "autotheta": lambda: AutoTheta(season_length=m, alias="autotheta"),
    }
    out, seconds = None, {}
    for name in names:
        if name not in table:
            continue
        model = table[name]()
        alias = "Naive" if name == "naive" else name
        started = time.perf_counter()
        sf = StatsForecast(models=[model], freq=freq, n_jobs=2, fallback_model=Naive())
        pred = sf.forecast(df=train[["unique_id", "ds", "y"]], h=h).reset_index()
        seconds[name] = time.perf_counter() - started
        pred = pred[["unique_id", "ds", alias]].rename(columns={alias: name})
        out = pred if out is None else out.merge(pred, on=["unique_id", "ds"])
    return out, seconds


def _prophet_one(uid, frame, h, freq):
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True
    model = Prophet().fit(frame)
    future = model.make_future_dataframe(h, freq=freq, include_history=False)
    pred = model.predict(future)[["ds", "yhat"]]
    pred["unique_id"] = uid
    return pred


def prophet_peer(train: pd.DataFrame, h: int, freq: str):
    started = time.perf_counter()
    parts = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_prophet_one)(uid, g[["ds", "y"]], h, freq)
        for uid, g in train.groupby("unique_id", sort=False)
    )
    pred = pd.concat(parts).rename(columns={"yhat": "prophet_default"})
    return pred, time.perf_counter() - started


def run(
    name: str,
    timeout: float | None,
    root: Path,
    trials: int,
    models: str | None,
    peers: list[str],
    selection: str,
    exog: list[str],
) -> pd.DataFrame:
    rel, h, country, flt = DATASETS[name]
    path = root / rel
    if flt == "full_history":
        path = full_history_csv(path)
    data = prepare(path, horizon=h, country=country, exog=exog)
    df, spec = data.frame, data.spec
    options = TrainOptions(trials=trials, timeout=timeout, selection=selection)
    if models:
        options.models = tuple(models.split(","))
    with joblib.parallel_config(n_jobs=2):
        report = backtest(df, spec, h, options)
    train, _ = split(df, h, h)
    actuals = report.actuals
    seconds = {SELECTED: report.seconds}
    sf_pred, sf_seconds = statsforecast_peers(train, h, spec.freq.alias, spec.season_length, peers)
    seconds |= sf_seconds
    if sf_pred is not None:
        actuals = actuals.merge(sf_pred, on=["unique_id", "ds"], how="left")
    if "prophet_default" in peers:
        pred, secs = prophet_peer(train, h, spec.freq.alias)
        actuals = actuals.merge(pred, on=["unique_id", "ds"], how="left")
        seconds["prophet_default"] = secs
    ours = [c for c in report.outcome.per_model.columns if c not in ("unique_id", "ds")]
    peer_cols = [p for p in peers if p in actuals.columns]
    names = [SELECTED, *ours, *peer_cols]
    per_series = evaluate(actuals, train, names, spec.season_length)
    table = summarize(per_series, actuals)[["mase", "rmsse", "wape"]]
    for model in ours:
        seconds.setdefault(model, report.outcome.seconds.get(model, np.nan))
    table["seconds"] = pd.Series(seconds)
    table["trials"] = pd.Series({m: report.outcome.tuning[m].trials for m in ours})
    table["kind"] = ["ours" if m in (SELECTED, *ours) else "peer" for m in table.index]
    table.attrs["coverage"] = report.coverage
    table.attrs["series"] = df["unique_id"].nunique()
    table.attrs["choice"] = report.outcome.selection.choice.value_counts().to_dict()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", default="favorita,walmart,ecommerce")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument(
        "--timeout", type=float, default=15.0, help="tuning budget per model, seconds"
    )
    parser.add_argument("--models", help="our models (default all)")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--selection", default="global")
    parser.add_argument("--exog", action="append", default=[])
    parser.add_argument("--json", type=Path, help="also write the tables as JSON")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)
    results = {}
    for name in args.datasets.split(","):
        table = run(
            name,
            args.timeout,
            args.data,
            args.trials,
            args.models,
            args.peers.split(","),
            args.selection,
            args.exog,
        )
        peers = table[table["kind"] == "peer"]
        best_mase, best_rmsse = peers["mase"].min(), peers["rmsse"].min()
        sel = table.loc[SELECTED]
        print(f"\n== {name}: {table.attrs['series']} series; served {table.attrs['choice']}")
        print(table.sort_values("rmsse").round(3).to_string())
        print(f"interval coverage {table.attrs['coverage']}")
        wins = sel["mase"] < best_mase and sel["rmsse"] < best_rmsse
        print(
            f"selected vs best peer: MASE {sel['mase']:.3f} vs {best_mase:.3f}, "
            f"RMSSE {sel['rmsse']:.3f} vs {best_rmsse:.3f} -> "
            f"{'beats' if wins else 'DOES NOT beat'} every peer"
        )
        results[name] = table.round(4).reset_index().to_dict(orient="records")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
