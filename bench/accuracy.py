"""Held-out accuracy of the served forecast next to statistical and ML peers, same protocol.

For each data set: hold out the last H periods of every series (``holdout_split``:
a series launched inside the window keeps its first period); our workflow with
its default options (tuning, selection, intervals) sees only the rest; the peers
(statsforecast, suffixed ``_sf`` where a name is also ours; Prophet with
defaults; an mlforecast LightGBM) are fitted on the
same rows; every forecast is scored by the same metric functions. Prints mean
MASE (seasonal scale), mean RMSSE (one-step scale), pooled WAPE and seconds per
method, interval coverage overall and per horizon step, and what our default
run costs (seconds, peak memory of the process and its workers) next to
AutoETS alone, each measured in a child process of the same run.

    pip install -e '.[bench]'
    python bench/accuracy.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import PeakMemory

DATASETS = {
    "favorita": ("favorita_store_transactions_daily/transactions.csv", 28, "EC", None),
    "walmart": ("walmart_store_dept_weekly/train.csv", 13, "US", "full_history"),
    "ecommerce": ("ecommerce_sales_daily/ecommerce_sales_data.csv", 28, "US", None),
    "carparts": ("carparts_monthly/carparts.csv", 12, "US", None),
    "m5": ("m5_tx1_wi1_items_daily/m5_tx1_wi1_28items_daily.csv", 28, "US", None),
}
PEERS = [
    "naive_sf",
    "seasonal_naive_sf",
    "croston_sf",
    "adida_sf",
    "imapa_sf",
    "autoets",
    "autoarima",
    "autotheta",
    "prophet_default",
    "lightgbm",
]


def full_history_csv(path: Path) -> Path:
    """The Walmart store x dept series present in every week of the file."""
    raw = pd.read_csv(path)
    weeks = raw["Date"].nunique()
    counts = raw.groupby(["Store", "Dept"])["Date"].transform("nunique")
    out = Path(tempfile.mkdtemp()) / "walmart_full_history.csv"
    raw.loc[counts == weeks].to_csv(out, index=False)
    return out


def load(name: str, root: Path):
    from forecasting.dataset import prepare

    rel, h, country, variant = DATASETS[name]
    path = root / rel
    if variant == "full_history":
        path = full_history_csv(path)
    return prepare(path, horizon=h, country=country), h


def statsforecast_peer(train: pd.DataFrame, h: int, freq: str, m: int, name: str):
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
        "naive_sf": lambda: Naive(alias="naive_sf"),
        "seasonal_naive_sf": lambda: SeasonalNaive(season_length=m, alias="seasonal_naive_sf"),
        "croston_sf": lambda: CrostonOptimized(alias="croston_sf"),
        "adida_sf": lambda: ADIDA(alias="adida_sf"),
        "imapa_sf": lambda: IMAPA(alias="imapa_sf"),
        "autoets": lambda: AutoETS(season_length=m, alias="autoets"),
        "autoarima": lambda: AutoARIMA(season_length=m, alias="autoarima"),
        "autotheta": lambda: AutoTheta(season_length=m, alias="autotheta"),
    }
    sf = StatsForecast(models=[table[name]()], freq=freq, n_jobs=2, fallback_model=Naive())
    pred = sf.forecast(df=train[["unique_id", "ds", "y"]], h=h)
    return pred.reset_index()[["unique_id", "ds", name]]


def _prophet_one(uid, frame, h, freq):
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True
    model = Prophet().fit(frame)
    future = model.make_future_dataframe(h, freq=freq, include_history=False)
    pred = model.predict(future)[["ds", "yhat"]]
    pred["unique_id"] = uid
    return pred


def prophet_peer(train: pd.DataFrame, h: int, freq: str, m: int, name: str):
    parts = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_prophet_one)(uid, g[["ds", "y"]], h, freq)
        for uid, g in train.groupby("unique_id", sort=False)
        if len(g) >= 2
    )
    return pd.concat(parts).rename(columns={"yhat": name})


def lightgbm_peer(train: pd.DataFrame, h: int, freq: str, m: int, name: str):
    """mlforecast's recipe: lags, rolling means, calendar features, per-series scaling."""
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import ExpandingMean, RollingMean
    from mlforecast.target_transforms import LocalStandardScaler

    lags = sorted({1, 2, 3, m})
    dates = {"D": ["dayofweek", "month"], "MS": ["month"]}.get(freq, ["month"])
    forecaster = MLForecast(
        models={name: LGBMRegressor(verbosity=-1, n_jobs=2, random_state=0)},
        freq=freq,
        lags=lags,
        lag_transforms={1: [ExpandingMean(), RollingMean(window_size=m)]},
        date_features=dates,
        target_transforms=[LocalStandardScaler()],
    )
    frame = train[["unique_id", "ds", "y"]]
    forecaster.fit(frame, static_features=[], dropna=False)
    return forecaster.predict(h)


PEER_FUNCTIONS = {"prophet_default": prophet_peer, "lightgbm": lightgbm_peer}


def ours_in_child(args: dict) -> dict:
    """Our default backtest, timed and its memory sampled, in a process of its own."""
    from forecasting.workflow import TrainOptions, backtest

    data, h = load(args["name"], Path(args["data"]))
    options = TrainOptions(trials=args["trials"], timeout=args["timeout"])
    if args["selection"]:
        options.selection = args["selection"]
    if args["models"]:
        options.models = tuple(args["models"].split(","))
    started = time.perf_counter()
    with PeakMemory() as memory, joblib.parallel_config(n_jobs=2):
        report = backtest(data.frame, data.spec, h, options)
    seconds = time.perf_counter() - started
    outcome = report.outcome
    result = {
        "seconds": seconds,
        "peak_mb": memory.peak,
        "actuals": report.actuals,
        "ours": [c for c in outcome.per_model.columns if c not in ("unique_id", "ds")],
        "model_seconds": outcome.seconds,
        "coverage": report.coverage,
        "coverage_by_step": report.coverage_by_step,
        "choice": outcome.selection.choice.value_counts().to_dict(),
        "ladder": outcome.profile["ladder_step"].value_counts().to_dict(),
        "classes": outcome.profile["demand_class"].value_counts().to_dict(),
        "diverged": {k: len(v) for k, v in outcome.diverged().items()},
        "drivers": outcome.drivers.describe() if outcome.drivers else [],
    }
    Path(args["out"]).write_bytes(pickle.dumps(result))
    return {}


def autoets_in_child(args: dict) -> dict:
    """AutoETS alone on the same rows: the cost our default run is compared with."""
    from forecasting.backtest import holdout_split

    data, h = load(args["name"], Path(args["data"]))
    train, _ = holdout_split(data.frame, h)
    started = time.perf_counter()
    with PeakMemory() as memory:
        pred = statsforecast_peer(
            train, h, data.spec.freq.alias, data.spec.season_length, "autoets"
        )
    result = {"seconds": time.perf_counter() - started, "peak_mb": memory.peak, "pred": pred}
    Path(args["out"]).write_bytes(pickle.dumps(result))
    return {}


def in_child(mode: str, args: dict, keep: Path | None = None) -> dict:
    """Run ``mode`` in a child process. With ``keep``, its result is kept there and a
    result already kept is reused, so a long run that stopped resumes where it was."""
    if keep is not None:
        out = keep / f"{args['name']}-{mode}.pkl"
        if out.is_file():
            return pickle.loads(out.read_bytes())
        keep.mkdir(parents=True, exist_ok=True)
    else:
        out = Path(tempfile.mkdtemp()) / "result.pkl"
    args = {**args, "out": str(out)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, json.dumps(args)], check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed for {args['name']}")
    return pickle.loads(out.read_bytes())


def run(name: str, args: argparse.Namespace) -> dict:
    from forecasting.backtest import holdout_split
    from forecasting.metrics import evaluate, summarize
    from forecasting.workflow import SELECTED

    common = {
        "name": name,
        "data": str(args.data),
        "trials": args.trials,
        "timeout": args.timeout,
        "selection": args.selection,
        "models": args.models,
    }
    data, h = load(name, args.data)
    df, spec = data.frame, data.spec
    train, _ = holdout_split(df, h)
    ours = in_child("ours", common, args.keep)
    actuals = ours["actuals"]
    seconds = {SELECTED: ours["seconds"]}
    cost = {"ours": (ours["seconds"], ours["peak_mb"])}
    peers = [p for p in args.peers.split(",") if p]
    if "autoets" in peers:
        ets = in_child("autoets", common, args.keep)
        cost["autoets"] = (ets["seconds"], ets["peak_mb"])
        seconds["autoets"] = ets["seconds"]
        actuals = actuals.merge(ets["pred"], on=["unique_id", "ds"], how="left")
    for peer in peers:
        if peer == "autoets":
            continue
        started = time.perf_counter()
        fn = PEER_FUNCTIONS.get(peer, statsforecast_peer)
        pred = fn(train, h, spec.freq.alias, spec.season_length, peer)
        seconds[peer] = time.perf_counter() - started
        actuals = actuals.merge(pred[["unique_id", "ds", peer]], on=["unique_id", "ds"], how="left")
    peer_cols = [p for p in peers if p in actuals.columns]
    actuals[peer_cols] = actuals[peer_cols].fillna(0.0)  # a peer that left a series out
    names = [SELECTED, *ours["ours"], *peer_cols]
    per_series = evaluate(actuals, train, names, spec.season_length)
    table = summarize(per_series, actuals)[["mase", "rmsse", "wape"]]
    for model in ours["ours"]:
        seconds.setdefault(model, ours["model_seconds"].get(model, np.nan))
    table["seconds"] = pd.Series(seconds)
    table["kind"] = ["ours" if m in (SELECTED, *ours["ours"]) else "peer" for m in table.index]
    return {"table": table, "series": df["unique_id"].nunique(), "cost": cost, **ours}


def report(name: str, result: dict) -> dict:
    from forecasting.workflow import SELECTED

    table = result["table"]
    peers = table[table["kind"] == "peer"]
    best_mase, best_rmsse = peers["mase"].min(), peers["rmsse"].min()
    sel = table.loc[SELECTED]
    print(f"\n== {name}: {result['series']} series; ladder {result['ladder']}")
    print(f"demand classes {result['classes']}")
    print(f"served {result['choice']}")
    for line in result.get("drivers", []):
        print(f"driver {line}")
    if result["diverged"]:
        print(f"diverged and replaced (series per model): {result['diverged']}")
    print(table.sort_values("rmsse").round(3).to_string())
    cov = {k: round(v, 3) for k, v in result["coverage"].items()}
    print(f"interval coverage {cov}")
    print("coverage per horizon step:")
    print(result["coverage_by_step"].round(2).T.to_string())
    wins = sel["mase"] < best_mase and sel["rmsse"] < best_rmsse
    print(
        f"selected vs best peer: MASE {sel['mase']:.3f} vs {best_mase:.3f}, "
        f"RMSSE {sel['rmsse']:.3f} vs {best_rmsse:.3f} -> "
        f"{'beats' if wins else 'DOES NOT beat'} every peer"
    )
    for who, (secs, peak) in result["cost"].items():
        print(f"cost {who}: {secs:.1f} s, peak {peak:.0f} MB")
    return {
        "table": table.round(4).reset_index().to_dict(orient="records"),
        "coverage": result["coverage"],
        "coverage_by_step": result["coverage_by_step"].round(4).to_dict(),
        "cost": result["cost"],
        "choice": result["choice"],
        "ladder": result["ladder"],
        "drivers": result.get("drivers", []),
        "wins": bool(wins),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--trials", type=int, default=0, help="the product's default: 0")
    parser.add_argument("--timeout", type=float, help="tuning budget per model, seconds")
    parser.add_argument("--models", help="our models (default all)")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--selection", help="override the default selection mode")
    parser.add_argument("--json", type=Path, help="also write the tables as JSON")
    parser.add_argument(
        "--keep", type=Path, help="keep our run's and AutoETS's results here; reuse kept ones"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR)
    if args.child:
        mode, options = args.child
        (ours_in_child if mode == "ours" else autoets_in_child)(json.loads(options))
        return
    results = {}
    for name in args.datasets.split(","):
        results[name] = report(name, run(name, args))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
