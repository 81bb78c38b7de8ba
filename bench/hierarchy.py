"""Totals three ways: bottom-up sums, each total's own model, and MinT reconciling both.

For each data set the product's default backtest runs once (cached): the last H
periods of every series are held out, the default workflow trains on the rest.
Its validation folds give each way's validation score, as the product's own
choice (``forecasting.serving.reconciliation.choose``) sees them; on the held-out window

  (a) bottom-up: every total is the sum of the served series forecasts,
  (b) aggregate: AutoETS fitted on each total's own history (does not add up),
  (c) MinT with shrinkage (``hierarchicalforecast``) of (b) and the series, its
      error covariance from every validation fold,

are scored by MASE on each node (the total, each group of each attribute, each
series), averaged per level. Only the validated series take part, as in the
product. The data sets' own attribute files give the groups: Favorita's stores
by city, state and type; Walmart's store x department by store, department and
store type; Carparts has the total only.

    python bench/hierarchy.py --data ../shared/data --cache /tmp/hierarchy-cache
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from panels import PANELS, panel_csv

WAYS = ("bottom_up", "aggregate_model", "mint_shrink")


def with_groups(name: str, root: Path) -> Path:
    """The data set's CSV with its attribute file joined (text columns, fixed per series)."""
    rel = PANELS[name].csv
    out = Path(tempfile.mkdtemp()) / f"{name}.csv"
    if name == "favorita":
        sales = pd.read_csv(root / rel)
        stores = pd.read_csv(root / "favorita_store_transactions_daily/stores.csv")
        sales.merge(stores[["store_nbr", "city", "state", "type"]], on="store_nbr").to_csv(
            out, index=False
        )
    elif name == "walmart":
        sales = pd.read_csv(panel_csv(name, root))
        stores = pd.read_csv(root / "walmart_store_dept_weekly/stores.csv")
        stores = stores.rename(columns={"Type": "StoreType"})[["Store", "StoreType"]]
        sales.merge(stores, on="Store").to_csv(out, index=False)
    else:
        return root / rel
    return out


def backtested(name: str, root: Path, cache: Path) -> dict:
    """What the default backtest leaves for the totals (cached per data set)."""
    path = cache / f"{name}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions
    from forecasting.evaluation.backtest import holdout_split
    from forecasting.evaluation.selection import combine
    from forecasting.serving.model import SERVED
    from forecasting.workflow import TrainOptions, backtest

    h, country = PANELS[name].horizon, PANELS[name].country
    data = prepare(with_groups(name, root), ReadingOptions(country=country), horizon=h)
    started = time.perf_counter()
    with joblib.parallel_config(n_jobs=2):
        report = backtest(data.frame, data.spec, h, TrainOptions())
    selection = report.outcome.selection
    served = combine(selection.table, selection)
    columns = [c for c in data.spec.attributes if c in data.frame.columns]
    train, _ = holdout_split(data.frame, h)
    kept = {
        "h": h,
        "seconds": time.perf_counter() - started,
        "season_length": data.spec.season_length,
        "freq": data.spec.freq.alias,
        "columns": columns,
        "keys": data.frame[["unique_id", *columns]].drop_duplicates("unique_id"),
        "train": train[["unique_id", "ds", "y"]],
        "table": selection.table.loc[served.notna(), ["unique_id", "cutoff", "ds", "y"]],
        "served": served.loc[served.notna()],
        "held_out": report.actuals[["unique_id", "ds", "y", SERVED]].rename(
            columns={SERVED: "yhat"}
        ),
    }
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(kept))
    return kept


def held_out_scores(kept: dict) -> tuple[dict, dict]:
    """Each way's held-out MASE per level, and the seconds each way took."""
    from forecasting.serving import reconciliation as co

    table, train, m, freq = kept["table"], kept["train"], kept["season_length"], kept["freq"]
    tree = co.Hierarchy.of(table, kept["keys"], kept["columns"])
    series, levels, S, names = tree.series, tree.levels, tree.S, tree.names
    rows = kept["held_out"].loc[kept["held_out"]["unique_id"].isin(series)]
    bottom = rows.pivot(index="unique_id", columns="ds", values="yhat").reindex(series)
    truth = rows.pivot(index="unique_id", columns="ds", values="y").reindex(series)
    keep = bottom.notna().all() & truth.notna().all()  # the periods every series has
    bottom, truth = bottom.loc[:, keep], truth.loc[:, keep]
    seconds = {}
    started = time.perf_counter()
    made = {"bottom_up": S @ bottom.to_numpy()}
    seconds["bottom_up"] = time.perf_counter() - started
    started = time.perf_counter()
    mine = train.loc[train["unique_id"].isin(series)]
    totals = co.total_forecasts(co.aggregate(mine, levels), kept["h"], m, freq)
    top = totals.pivot(index="unique_id", columns="ds", values="yhat")
    top = top.reindex(index=tree.aggregates, columns=bottom.columns)
    base = np.vstack([top.to_numpy(), bottom.to_numpy()])
    made["aggregate_model"] = base
    seconds["aggregate_model"] = time.perf_counter() - started
    started = time.perf_counter()
    folds = co.fold_frames(table.assign(served=kept["served"].to_numpy()), tree, train, m, freq)
    errors = np.hstack([f["errors"] for f in folds])
    made["mint_shrink"] = co.reconcile(S, base, errors)
    seconds["mint_shrink"] = time.perf_counter() - started + seconds["aggregate_model"]
    start = rows.groupby("unique_id")["ds"].min()
    scale = co.node_scales(train, levels, start, m, names)
    actual = S @ truth.to_numpy()
    level_of = co.level_names(names, levels)
    scores = {
        way: co.level_means(np.abs(actual - got).mean(axis=1) / scale, level_of)
        for way, got in made.items()
    }
    total = names.index("total")
    for way, got in made.items():
        scores[way]["total WAPE"] = round(
            float(np.abs(actual[total] - got[total]).sum() / np.abs(actual[total]).sum()), 4
        )
    return scores, seconds


def measure(kept: dict) -> tuple[pd.DataFrame, str]:
    from forecasting.serving import reconciliation as co

    args = (kept["table"], kept["served"], kept["train"], kept["keys"], kept["columns"],
            kept["season_length"], kept["freq"])  # fmt: skip
    chosen = co.choose(*args)  # its validation table holds all three ways
    validation = chosen.validation
    held, seconds = held_out_scores(kept)
    levels = [k for k in held["bottom_up"] if k not in ("mean", "total WAPE")]
    order = ["total", *[lv for lv in levels if lv not in ("total", "series")], "series"]
    rows = []
    for level in [*order, "mean", "total WAPE"]:
        row = {"level": level}
        for way in WAYS:
            v = validation.get(way, {}).get(level)
            row[f"valid {way}"] = "" if v is None else f"{v:.3f}"
        for way in WAYS:
            row[f"held-out {way}"] = f"{held[way][level]:.3f}"
        rows.append(row)
    rows.append({"level": "seconds", **{f"held-out {w}": f"{seconds[w]:.1f}" for w in WAYS}})
    return pd.DataFrame(rows).fillna(""), chosen.describe()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/hierarchy-cache"))
    parser.add_argument("--datasets", default="favorita,walmart,carparts")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    for name in args.datasets.split(","):
        kept = backtested(name, args.data, args.cache)
        table, chosen = measure(kept)
        n = kept["table"]["unique_id"].nunique()
        print(f"\n== {name}: {n} validated series, H={kept['h']}, "
              f"backtest {kept['seconds']:.0f} s")  # fmt: skip
        print(table.to_string(index=False))
        print(f"product: {chosen}")


if __name__ == "__main__":
    main()
