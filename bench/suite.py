"""One table for every change to the defaults: the default backtest on every panel.

For each panel of ``bench/panels.py``, in one run and one after the other:

- the AutoETS script (``bench/autoets_script.py``), a whole process: what a
  default backtest must cost about the same as;
- the product's default backtest, ``python -m pipeline backtest`` with the
  columns named and nothing else, a whole process, its served forecasts and
  bands written to a CSV (``--code DIR``: the product of another checkout, e.g. a
  worktree of the commit before a change, scored by this one's code);
- the scores: ours and every kept peer (``bench/peers.py``) on the same held-out
  rows with the product's metric code: mean MASE (seasonal scale), mean RMSSE
  (one-step scale), WAPE, and the coverage of our 80% and 95% bands.

At the foot: the geometric mean over panels of ours / the best peer on each
metric and the worst panel. ``--compare FILE`` names every panel where ours got
worse by more than 1% on either metric against a kept baseline of ours
(``--save FILE`` keeps one); ``--run`` also times a whole default run
(``python -m pipeline run``: backtest, final fits, totals, MLflow) next to the
script.

``--partition-rows N`` backtests in partitions of whole series (``forecasting.
partitioned``): what the choice of a partition's scope costs in accuracy.

    python bench/suite.py --data ../shared/data [--panels m3,tourism] \\
        [--compare bench/baseline.json] [--save FILE] [--run] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import whole_process
from panels import PANELS, load, panel_csv
from peers import KEPT, PEERS, fingerprint

BENCH = Path(__file__).resolve().parent

#: a panel "got worse" when a metric rose by more than this share against the baseline
WORSE = 0.01


def run_panel(
    name: str, data: Path, work: Path, whole_run: bool, code: Path, extra: tuple[str, ...] = ()
) -> dict:
    """Time the script and our backtest (and run) on one panel; score ours and the peers."""
    panel = PANELS[name]
    csv = panel_csv(name, data, work)
    script = [sys.executable, str(BENCH / "autoets_script.py"), *panel.script_arguments(csv)]
    peer = whole_process(script, log=work / f"{name}-autoets.log")
    if peer["returncode"]:
        raise RuntimeError(f"the AutoETS script failed on {name}: see {work}/{name}-autoets.log")
    forecasts, scores = work / f"{name}-forecasts.csv", work / f"{name}-scores.json"
    ours = whole_process(
        [sys.executable, "-m", "pipeline", "backtest", *panel.cli_arguments(csv), "--quiet",
         "--json", str(scores), "--forecasts", str(forecasts), *extra],
        log=work / f"{name}-backtest.log",
        code=code,
    )  # fmt: skip
    if ours["returncode"]:
        raise RuntimeError(f"the backtest failed on {name}: see {work}/{name}-backtest.log")
    result = {
        "name": name,
        "seconds": {"ours": ours["seconds"], "autoets_script": peer["seconds"]},
        "peak_mb": {"ours": ours["peak_mb"], "autoets_script": peer["peak_mb"]},
        "served": json.loads(scores.read_text())["selected"]["by_series"],
    }
    if whole_run:
        env = {**os.environ, "DATA_DIR": tempfile.mkdtemp(prefix=f"suite-{name}-", dir=work)}
        cmd = [sys.executable, "-m", "pipeline", "run", *panel.cli_arguments(csv), "--quiet"]
        run = whole_process(cmd, env=env, log=work / f"{name}-run.log", code=code)
        result["seconds"]["run"] = run["seconds"]
        result["peak_mb"]["run"] = run["peak_mb"]
    return result | score(name, data, work, forecasts)


def score(name: str, data: Path, work: Path, forecasts: Path) -> dict:
    """Ours and the kept peers on the same held-out rows, by the product's metric code."""
    from forecasting.evaluation.backtest import holdout_split
    from forecasting.evaluation.intervals import LEVELS, coverage
    from forecasting.evaluation.metrics import evaluate, summarize

    dataset, h = load(name, data, work)
    train, test = holdout_split(dataset.frame, h)
    ours = pd.read_csv(forecasts, dtype=str)  # ids as written (0001 stays 0001)
    ours["ds"] = pd.to_datetime(ours["ds"])
    ids = list(dataset.loaded.mapping.ids)
    if "unique_id" not in ours:  # the CSV names the file's own id columns
        lookup = dataset.id_lookup().astype({c: str for c in ids})
        ours = ours.merge(lookup, on=ids, how="left")
    bands = ["yhat", *[f"{side}{level}" for level in LEVELS for side in ("lo", "hi")]]
    ours = ours[["unique_id", "ds", *bands]].astype({c: float for c in bands})
    actuals = test[["unique_id", "ds", "y"]].merge(ours, on=["unique_id", "ds"])
    actuals = actuals.rename(columns={"yhat": "ours"})
    meta_path = KEPT / f"{name}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    stale = bool(meta) and meta.get("fingerprint") != fingerprint(train)
    peers = []
    if meta and not stale:
        kept = pd.read_csv(KEPT / f"{name}.csv.gz", parse_dates=["ds"])
        peers = [p for p in PEERS if p in kept]
        actuals = actuals.merge(kept, on=["unique_id", "ds"], how="left")
        actuals[peers] = actuals[peers].fillna(0.0)  # a peer that left a series out
    per_series = evaluate(actuals, train, ["ours", *peers], dataset.spec.season_length)
    table = summarize(per_series, actuals)[["mase", "rmsse", "wape"]]
    return {
        "series": int(dataset.frame["unique_id"].nunique()),
        "horizon": h,
        "points": len(actuals),
        "table": table.round(4).to_dict(orient="index"),
        "coverage": {k: round(v, 4) for k, v in coverage(actuals, LEVELS).items()},
        "peers_stale": stale,
        "peer_versions": meta.get("versions", {}),
    }


def summary_row(result: dict) -> dict:
    """Ours against the best peer on each metric, the coverage and the cost."""
    table = pd.DataFrame(result["table"]).T
    ours, peers = table.loc["ours"], table.drop(index="ours")
    row = {"panel": result["name"], "series": result["series"], "h": result["horizon"],
           "ours_mase": ours["mase"], "ours_rmsse": ours["rmsse"]}  # fmt: skip
    for metric in ("mase", "rmsse"):
        if len(peers):
            best = peers[metric].idxmin()
            row[f"best_{metric}"] = f"{best} {peers.loc[best, metric]:.3f}"
            row[f"ratio_{metric}"] = ours[metric] / peers.loc[best, metric]
        else:
            row[f"best_{metric}"], row[f"ratio_{metric}"] = "no kept peers", np.nan
    row["cov80"], row["cov95"] = result["coverage"]["80"], result["coverage"]["95"]
    seconds = result["seconds"]
    row["ours_s"], row["autoets_s"] = seconds["ours"], seconds["autoets_script"]
    row["cost"] = seconds["ours"] / seconds["autoets_script"]
    if "run" in seconds:
        row["run_cost"] = seconds["run"] / seconds["autoets_script"]
    return row


def print_panel(result: dict) -> None:
    table = pd.DataFrame(result["table"]).T.sort_values("rmsse")
    print(f"\n== {result['name']}: {result['series']} series, H={result['horizon']}, "
          f"{result['points']} held-out points; served {result['served']}")  # fmt: skip
    if result["peers_stale"]:
        print("   the kept peers were made on other training rows: rerun bench/peers.py")
    print(table.round(3).to_string())


def print_summary(results: list[dict], baseline: dict | None) -> list[str]:
    """The one table, its foot, and (with a baseline) the panels that got worse."""
    rows = pd.DataFrame([summary_row(r) for r in results]).set_index("panel")
    print("\n| panel | series, H | ours MASE / RMSSE | best peer MASE | best peer RMSSE "
          "| ours / best | coverage 80 / 95 | seconds: ours / AutoETS |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows.iterrows():
        run = f"; run {r['run_cost']:.2f}x" if "run_cost" in r and pd.notna(r["run_cost"]) else ""
        print(
            f"| {name} | {r['series']:,}, {r['h']} | {r['ours_mase']:.3f} / {r['ours_rmsse']:.3f} "
            f"| {r['best_mase']} | {r['best_rmsse']} | {r['ratio_mase']:.3f} / "
            f"{r['ratio_rmsse']:.3f} | {r['cov80']:.1%} / {r['cov95']:.1%} | "
            f"{r['ours_s']:.1f} / {r['autoets_s']:.1f} = {r['cost']:.2f}x{run} |"
        )
    ratios = rows[["ratio_mase", "ratio_rmsse"]].dropna()
    if len(ratios):
        geo = np.exp(np.log(ratios).mean())
        worst = ratios.max(axis=1).idxmax()
        print(
            f"\ngeometric mean of ours / best peer over {len(ratios)} panels: MASE "
            f"{geo['ratio_mase']:.3f}, RMSSE {geo['ratio_rmsse']:.3f}; worst panel {worst} "
            f"({ratios.loc[worst, 'ratio_mase']:.3f} / {ratios.loc[worst, 'ratio_rmsse']:.3f}); "
            f"cost {rows['cost'].min():.2f}x to {rows['cost'].max():.2f}x the AutoETS script"
        )
    worse = []
    for name, r in rows.iterrows():
        before = (baseline or {}).get(name)
        if not before:
            continue
        for metric in ("mase", "rmsse"):
            change = r[f"ours_{metric}"] / before[metric] - 1
            if change > WORSE:
                worse.append(f"{name} {metric.upper()} {before[metric]:.3f} -> "
                             f"{r[f'ours_{metric}']:.3f} ({change:+.1%})")  # fmt: skip
    if baseline is not None:
        print("\nagainst the baseline: " + ("; ".join(worse) if worse else
                                            "no panel worse by more than 1%"))  # fmt: skip
    return worse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=BENCH.parent.parent / "shared" / "data")
    parser.add_argument("--panels", default=",".join(PANELS))
    parser.add_argument("--compare", type=Path, help="a baseline of ours kept with --save")
    parser.add_argument("--save", type=Path, help="keep ours' scores here as a baseline")
    parser.add_argument("--run", action="store_true", help="also time a whole default run")
    parser.add_argument("--json", type=Path, help="write every figure as JSON")
    parser.add_argument("--work", type=Path, help="keep logs and forecasts here")
    parser.add_argument(
        "--partition-rows",
        type=int,
        help="backtest in partitions of whole series of at most this many rows",
    )
    parser.add_argument(
        "--code", type=Path, default=BENCH.parent,
        help="run the product of this checkout (a worktree of an older commit: 'before')",
    )  # fmt: skip
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    work = args.work or Path(tempfile.mkdtemp(prefix="suite-"))
    work.mkdir(parents=True, exist_ok=True)
    baseline = json.loads(args.compare.read_text()) if args.compare else None
    results = []
    for name in args.panels.split(","):
        started = time.perf_counter()
        extra = ("--partition-rows", str(args.partition_rows)) if args.partition_rows else ()
        results.append(
            run_panel(name, args.data.resolve(), work, args.run, args.code.resolve(), extra)
        )
        print_panel(results[-1])
        print(f"   ({time.perf_counter() - started:.0f} s for this panel)", flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
    worse = print_summary(results, baseline)
    if args.save:
        kept = {r["name"]: r["table"]["ours"] for r in results}
        args.save.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n")
    print(f"\nlogs and forecasts in {work}")
    sys.exit(1 if worse else 0)


if __name__ == "__main__":
    main()
