"""Prices and promotions on real scanner data: the forecast with the plan, without it,
and the simple peers, with the implied effects against the data's own pooled figures.

Data: ``../shared/data/dunnhumby_breakfast_at_the_frat_weekly`` (dunnhumby "Breakfast
at the Frat", weekly units of store x product with shelf price, base price, feature,
display and price-cut flags; third-party data, read here, never copied). The last 8
weeks of every series are held out with their prices and promotions as the plan, as a
planner would give them: the default ``pipeline backtest`` scores the served forecast
with the plan and without it. Next to it: naive, seasonal naive, the mean of the last 8
weeks, and a plain AutoETS script as a whole process on the same file (the cost peer).
Every forecast is scored here the same way, on the weeks all of them cover: MASE
scaled by the one-step naive error of each series' history (the scale of the issue's
first table), WAPE as total absolute error over total units. The data's own figures
are SOURCE.txt's (pooled fixed-effects log-log price slope, per-series median
uplift of each flag) and the pooled slope recomputed on the rows read.

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


def pooled_effects(raw: pd.DataFrame, controls: list[str]) -> dict[str, float]:
    """The data's own pooled fixed-effects regression of log units on log price (and the
    flags in ``controls``): the price slope, and each flag's lift (exp of its slope)."""
    rows = raw.loc[(raw["UNITS"] > 0) & (raw["PRICE"] > 0)].dropna(subset=controls).copy()
    key = rows["STORE_NUM"].astype(str) + "/" + rows["UPC"].astype(str)
    X = pd.DataFrame({"PRICE": np.log(rows["PRICE"]), **{c: rows[c] for c in controls}})
    X = X - X.groupby(key).transform("mean")
    y = np.log(rows["UNITS"])
    y = y - y.groupby(key).transform("mean")
    coef, *_ = np.linalg.lstsq(X.to_numpy(float), y.to_numpy(float), rcond=None)
    out = {"PRICE": float(coef[0])}
    out |= {c: float(np.exp(b)) for c, b in zip(controls, coef[1:], strict=True)}
    return out


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
        ours = pd.read_csv(fc, parse_dates=["ds"])
        if ets.returncode:
            print("AutoETS script failed:", ets.stderr[-1500:])
    table = peers(raw)
    ours["unique_id"] = (
        "STORE_NUM=" + ours["STORE_NUM"].astype(str) + "/UPC=" + ours["UPC"].astype(str)
    )
    cols = ["yhat", *(["served_without_plan"] if "served_without_plan" in ours else [])]
    joined = table.merge(ours[["unique_id", "ds", *cols]], on=["unique_id", "ds"], how="inner")
    holdout = result.get("holdout") or {}
    n, scored = raw.groupby(["STORE_NUM", "UPC"]).ngroups, joined["unique_id"].nunique()
    print(f"\n== dunnhumby breakfast at the frat: {n} series, last {H} weeks held out "
          f"({scored} scored by all)")  # fmt: skip
    print(f"{'forecast of the held-out weeks':<44} {'MASE':>8} {'WAPE %':>8}  coverage 80/95")
    for key, column in (("with_plan", "yhat"), ("without_plan", "served_without_plan")):
        if column not in joined:
            continue
        sc, row = scores(joined, column), holdout.get(key, {})
        cover = (
            f"{row.get('coverage80', float('nan')):.1%} / {row.get('coverage95', float('nan')):.1%}"
        )
        name = "the product, " + key.replace("_", " ")
        print(f"{name:<44} {sc['mase']:>8.3f} {sc['wape']:>8.1f}  {cover}")
    table = joined
    for name in ("naive", "seasonal_naive", "recent_mean_8"):
        sc = scores(table, name)
        print(f"{name:<44} {sc['mase']:>8.3f} {sc['wape']:>8.1f}")
    used = [f"{k} {'used' if v.get('used') else 'not used'}" for k, v in result["drivers"].items()]
    print(f"\nserved: {result['selected']['name']}; drivers: " + ", ".join(used))
    plain = pooled_effects(raw, [])
    controlled = pooled_effects(raw, ["FEATURE", "DISPLAY", "TPR_ONLY"])
    print(
        f"\n{'driver':<12} {'served model':>13} {'series using it':>16} {'SOURCE.txt':>11} "
        f"{'pooled FE':>10} {'FE, flags held':>15}"
    )
    for row in result.get("effects", []):
        name = row["driver"]
        ref = SOURCE_FIGURES.get(name)
        effect = f"{row['effect']:>13.2f}" if row["effect"] is not None else f"{'none':>13}"
        print(
            f"{name:<12} {effect} {row['series']:>7} of {row['of']:<6}"
            f"{ref if ref is not None else float('nan'):>11.2f} "
            f"{plain.get(name, float('nan')):>10.2f} {controlled.get(name, float('nan')):>15.2f}"
        )
    print(f"\ncost: pipeline backtest {ours_s:.1f} s vs AutoETS script {ets_s:.1f} s "
          f"({ours_s / ets_s:.2f}x); AutoETS exit {ets.returncode}")  # fmt: skip


if __name__ == "__main__":
    main()
