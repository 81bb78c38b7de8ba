"""Prices and promotions on real scanner data: the forecast with the plan, without it,
and the simple peers, with the implied effects against the data's own pooled figures.

Data: ``../shared/data/dunnhumby_breakfast_at_the_frat_weekly`` (dunnhumby "Breakfast
at the Frat", weekly units of store x product with shelf price, base price, feature,
display and price-cut flags; third-party data, read here, never copied). The last 8
weeks of every series are held out with their prices and promotions as the plan, as a
planner would give them: the default ``pipeline backtest`` scores the served forecast
with the plan and without it. Next to it: naive, seasonal naive, the mean of the last 8
weeks, and a plain AutoETS script as a whole process on the same file (the cost peer).
MASE is scaled by the one-step naive error of each series' history (the scale the
issue's first table used); WAPE is total absolute error over total units.

    PYTHONPATH=. python bench/drivers.py --data ../shared/data [--series N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
H = 8
SEASON = 52
DRIVERS = ["PRICE", "BASE_PRICE", "FEATURE", "DISPLAY", "TPR_ONLY"]
#: the data's own figures (SOURCE.txt): pooled fixed-effects log-log price slope and the
#: per-series median uplift of each flag (mean units on over off)
SOURCE_FIGURES = {"PRICE": -2.36, "FEATURE": 2.51, "DISPLAY": 2.31, "TPR_ONLY": 1.09}


def load(data: Path, series: int | None) -> pd.DataFrame:
    raw = pd.read_csv(data / "dunnhumby_breakfast_at_the_frat_weekly" / "transactions.csv")
    raw = raw[["WEEK_END_DATE", "STORE_NUM", "UPC", "UNITS", *DRIVERS]]
    if series:
        keys = raw[["STORE_NUM", "UPC"]].drop_duplicates().sample(series, random_state=0)
        raw = raw.merge(keys)
    return raw.sort_values(["STORE_NUM", "UPC", "WEEK_END_DATE"]).reset_index(drop=True)


def whole(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, done


def peers(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Naive, seasonal naive and the recent mean on the weeks each series sold (the
    file's rows; a missing week sold nothing, as the product reads it too)."""
    frame = raw.rename(columns={"WEEK_END_DATE": "ds", "UNITS": "y"})
    frame["unique_id"] = (
        "STORE_NUM=" + frame["STORE_NUM"].astype(str) + "/UPC=" + frame["UPC"].astype(str)
    )
    frame["ds"] = pd.to_datetime(frame["ds"])
    end = frame["ds"].max()
    weeks = pd.date_range(end - pd.Timedelta(weeks=H - 1), end, freq="7D")
    train = frame.loc[frame["ds"] < weeks[0]]
    grid = pd.MultiIndex.from_product(
        [frame["unique_id"].unique(), weeks], names=["unique_id", "ds"]
    )
    actual = frame.set_index(["unique_id", "ds"])["y"].reindex(grid, fill_value=0.0)
    full = (
        train.set_index(["unique_id", "ds"])["y"]
        .unstack()
        .reindex(
            columns=pd.date_range(train["ds"].min(), weeks[0] - pd.Timedelta(weeks=1), freq="7D")
        )
        .fillna(0.0)
    )
    values = full.to_numpy()
    out = {}
    last = values[:, -1]
    out["naive"] = np.repeat(last, H)
    out["seasonal_naive"] = (
        values[:, -SEASON : -SEASON + H].ravel() if values.shape[1] >= SEASON else out["naive"]
    )
    out["recent_mean_8"] = np.repeat(values[:, -H:].mean(axis=1), H)
    scale = np.abs(np.diff(values, axis=1)).mean(axis=1)
    table = pd.DataFrame(
        {"y": actual.reindex(pd.MultiIndex.from_product([full.index, weeks])).to_numpy()}
    )
    table["unique_id"] = np.repeat(full.index.to_numpy(), H)
    table["ds"] = np.tile(weeks, len(full))
    for name, yhat in out.items():
        table[name] = yhat
    table["scale"] = np.repeat(scale, H)
    return table


def scores(table: pd.DataFrame, column: str) -> dict:
    err = (table["y"] - table[column]).abs()
    mae = err.groupby(table["unique_id"]).mean()
    scale = table.groupby("unique_id")["scale"].first()
    ok = scale > 0
    return {
        "mase": float((mae[ok] / scale[ok]).mean()),
        "wape": float(err.sum() / table["y"].abs().sum() * 100),
    }


def pooled_elasticity(raw: pd.DataFrame) -> float:
    """The data's own pooled fixed-effects log-log slope of units on price."""
    rows = raw.loc[(raw["UNITS"] > 0) & (raw["PRICE"] > 0)].copy()
    key = rows["STORE_NUM"].astype(str) + "/" + rows["UPC"].astype(str)
    logq, logp = np.log(rows["UNITS"]), np.log(rows["PRICE"])
    dq = logq - logq.groupby(key).transform("mean")
    dp = logp - logp.groupby(key).transform("mean")
    return float((dq * dp).sum() / (dp * dp).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--series", type=int, help="a random sample of this many series")
    args = parser.parse_args()
    raw = load(args.data, args.series)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "frat.csv"
        raw.to_csv(csv, index=False)
        out, fc = Path(tmp) / "bt.json", Path(tmp) / "bt.csv"
        ours_s, done = whole(
            [sys.executable, "-m", "pipeline", "backtest", "--csv", str(csv), "--horizon",
             str(H), "--id", "STORE_NUM", "--id", "UPC", "--quiet", "--json", str(out),
             "--forecasts", str(fc)]
        )  # fmt: skip
        if done.returncode:
            sys.exit(done.stdout[-3000:] + done.stderr[-3000:])
        ets_s, ets = whole(
            [sys.executable, str(ROOT / "bench" / "autoets_script.py"), "--csv", str(csv),
             "--date", "WEEK_END_DATE", "--target", "UNITS", "--id", "STORE_NUM", "--id", "UPC",
             "--freq", "W-WED", "--season", str(SEASON), "--horizon", str(H)]
        )  # fmt: skip
        result = json.loads(out.read_text())
        if ets.returncode:
            print("AutoETS script failed:", ets.stderr[-1500:])
    table = peers(raw)
    holdout = result.get("holdout") or {}
    print(f"\n== dunnhumby breakfast at the frat: {raw.groupby(['STORE_NUM','UPC']).ngroups} "
          f"series, last {H} weeks held out")  # fmt: skip
    print(f"{'forecast of the held-out weeks':<44} {'MASE (ours)':>12} {'WAPE % (ours)':>14}")
    for key in ("with_plan", "without_plan"):
        row = holdout.get(key, {})
        name = "the product, " + key.replace("_", " ")
        mase, wape = row.get("mase", float("nan")), row.get("wape", float("nan"))
        print(f"{name:<44} {mase:>12.3f} {wape:>14.1f}")
    print(f"\n{'peer (one-step naive scale)':<44} {'MASE':>12} {'WAPE %':>14}")
    for name in ("naive", "seasonal_naive", "recent_mean_8"):
        s = scores(table, name)
        print(f"{name:<44} {s['mase']:>12.3f} {s['wape']:>14.1f}")
    used = [f"{k} {'used' if v.get('used') else 'not used'}" for k, v in result["drivers"].items()]
    print(f"\nserved: {result['selected']['name']}; drivers: " + ", ".join(used))
    print(f"\n{'driver':<12} {'implied by the served model':>28} {'the data (SOURCE.txt)':>22}")
    own = pooled_elasticity(raw)
    for row in result.get("effects", []):
        ref = SOURCE_FIGURES.get(row["driver"])
        extra = f"{ref:>22.2f}" if ref is not None else f"{'':>22}"
        print(f"{row['driver']:<12} {row['effect']:>28.2f}{extra}")
    print(f"pooled FE log-log price slope on these rows: {own:.2f}")
    print(f"\ncost: pipeline backtest {ours_s:.1f} s vs AutoETS script {ets_s:.1f} s "
          f"({ours_s / ets_s:.2f}x); AutoETS exit {ets.returncode}")  # fmt: skip


if __name__ == "__main__":
    main()
