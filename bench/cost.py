"""Where a default backtest and a default run spend their time, next to a plain AutoETS script.

For each data set, three whole processes on the same CSV, one after the
other, each timed from spawn to exit with the peak memory of its process tree
(its workers included) sampled every 0.2 s:

- the peer: ``bench/autoets_script.py`` (pandas + statsforecast AutoETS on all
  cores: what the product must cost about the same as);
- ``python -m pipeline backtest --csv FILE --horizon H`` with the defaults, run
  through the real command line in a child whose phases are timed by hooks on
  the workflow's functions and on every model's ``fit``/``predict``/``forward``
  (start-up and imports, loading, ladder, drivers, validation per model,
  screening, selection, the held-out forecast, intervals, scoring, writing);
- ``python -m pipeline run --csv FILE --horizon H`` (ingest, EDA, train,
  forecast, with SQLite, MLflow and the run log) on a fresh data directory;
  its steps and the train step's parts are read from the run's log.

    python bench/cost.py --data ../shared/data [--datasets m5,carparts] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from measure import EstimateWatcher, estimate_quality, whole_process  # noqa: E402
from panels import PANELS, panel_csv  # noqa: E402
from phase_clock import child_backtest  # noqa: E402


def peer_command(name: str, csv: Path) -> list[str]:
    return [sys.executable, str(BENCH / "autoets_script.py"), *PANELS[name].script_arguments(csv)]


def cli_arguments(name: str, csv: Path) -> list[str]:
    """The product's reading of the panel, as the suite runs it, without progress bars."""
    return [*PANELS[name].cli_arguments(csv), "--quiet"]


# ---- the instrumented backtest (runs in the child) ---------------------------------------


# ---- the run (its steps from its log) ---------------------------------------------------

LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \w+ (.*)$")


def run_breakdown(log: Path) -> dict:
    """Seconds per step and, in the train step, between its milestones (from the run log)."""
    steps: dict[str, float] = {}
    marks: list[tuple[float, str]] = []
    for line in log.read_text().splitlines():
        m = LOG_LINE.match(line)
        if not m:
            continue
        stamp = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
        text = m.group(2)
        if done := re.match(r"step (\w+) finished in ([\d.]+)s", text):
            steps[done.group(1)] = float(done.group(2))
        marks.append((stamp, text))
    milestones = {}
    keys = {
        "backtest": "training on data set",
        "production refit": "refitting",
        "saving": "saving the fitted models",
        "MLflow": "logging to MLflow",
    }
    for label, needle in keys.items():
        hit = next((s for s, t in marks if needle in t), None)
        if hit is not None:
            milestones[label] = hit
    return {"steps": steps, "milestones": milestones}


def measure(name: str, data: Path, work: Path, what: set[str], repeat: int = 1) -> dict:
    """``repeat`` rounds of peer, backtest and run in turn; each kept at its median round
    (every round's seconds under ``rounds``): these machines are noisy."""
    rounds = [measure_once(name, data, work, what) for _ in range(repeat)]
    result: dict = {"name": name, "rounds": {}}
    for key in ("peer", "backtest", "run"):
        kept = [r[key] for r in rounds if key in r]
        if kept:
            kept.sort(key=lambda r: r["seconds"])
            result[key] = kept[len(kept) // 2]
            result["rounds"][key] = [round(r["seconds"], 1) for r in kept]
    return result


def measure_once(name: str, data: Path, work: Path, what: set[str]) -> dict:
    csv = panel_csv(name, data, work)
    result: dict = {"name": name}
    result["peer"] = whole_process(peer_command(name, csv), log=work / f"{name}-peer.log")
    if result["peer"]["returncode"] != 0:
        raise RuntimeError(f"the AutoETS script failed on {csv}: see {work}/{name}-peer.log")
    print(f"{name}: AutoETS script {result['peer']['seconds']:.1f} s", flush=True)
    if "backtest" in what:
        out = work / f"{name}-backtest.json"
        cmd = [sys.executable, __file__, "--child", str(out), str(time.time())]
        cmd += cli_arguments(name, csv)
        result["backtest"] = whole_process(cmd, log=work / f"{name}-backtest.log")
        if out.exists():
            result["backtest"].update(json.loads(out.read_text()))
        print(f"{name}: backtest {result['backtest']['seconds']:.1f} s", flush=True)
    if "run" in what:
        data_dir = Path(tempfile.mkdtemp(prefix=f"cost-{name}-", dir=work))
        env = {**os.environ, "DATA_DIR": str(data_dir)}
        cmd = [sys.executable, "-m", "pipeline", "run", *cli_arguments(name, csv)]
        watcher = EstimateWatcher(data_dir / "app.sqlite")
        result["run"] = whole_process(
            cmd, env=env, log=work / f"{name}-run.log", label=lambda: watcher.step
        )
        result["run"]["estimates"] = watcher.stop()
        logs = sorted((data_dir / "logs").glob("*.log"))
        if logs:
            result["run"].update(run_breakdown(logs[-1]))
        if result["run"]["returncode"] != 0:
            print(f"{name}: the run failed: see {work}/{name}-run.log", flush=True)
        print(f"{name}: run {result['run']['seconds']:.1f} s", flush=True)
    return result


def print_report(result: dict) -> None:
    name, peer = result["name"], result["peer"]
    print(f"\n== {name}")
    if result.get("rounds"):
        print(f"seconds of every round: {result['rounds']}")
    print(f"AutoETS script: {peer['seconds']:.1f} s, peak {peer['peak_mb']:.0f} MB")
    bt = result.get("backtest")
    if bt and "phases" in bt:
        ratio = bt["seconds"] / peer["seconds"]
        print(
            f"default backtest: {bt['seconds']:.1f} s ({ratio:.2f}x AutoETS), "
            f"peak {bt['peak_mb']:.0f} MB"
        )
        print(f"{'phase':<22} {'seconds':>8} {'peak MB':>8}")
        for phase, secs in sorted(bt["phases"].items(), key=lambda kv: -kv[1]):
            print(f"{phase:<22} {secs:>8.1f} {bt['peaks'].get(phase, 0):>8.0f}")
        table: dict[str, dict[str, float]] = {}
        for model, phase, secs in bt["models"]:
            table.setdefault(model, {})[phase] = secs
        cols = sorted({p for row in table.values() for p in row})
        print(f"{'model':<16}" + "".join(f"{c:>18}" for c in cols))
        for model, row in sorted(table.items(), key=lambda kv: -sum(kv[1].values())):
            print(f"{model:<16}" + "".join(f"{row.get(c, 0):>18.1f}" for c in cols))
        served = bt.get("scores", {}).get("selected", {})
        if served:
            metrics = served["metrics"]
            name, mase, rmsse = served["name"], metrics["mase"], metrics["rmsse"]
            print(f"served {name}: MASE {mase:.3f}, RMSSE {rmsse:.3f}")
    elif bt:
        print(f"default backtest failed ({bt['returncode']}) after {bt['seconds']:.1f} s")
    run = result.get("run")
    if run:
        ratio = run["seconds"] / peer["seconds"]
        print(
            f"default run: {run['seconds']:.1f} s ({ratio:.2f}x AutoETS), "
            f"peak {run['peak_mb']:.0f} MB; steps {run.get('steps', {})}"
        )
        quality = estimate_quality(run.get("estimates", []), run["seconds"])
        if quality:
            half = quality["at_half"]
            print(
                f"time left at {half['seconds']:.0f} s (half way, bar {half['progress']:.0%}): "
                f"estimated {half['estimated_left']:.0f} s, truly {half['truly_left']:.0f} s; "
                f"within 30% of the truth from {quality['within_30pct_from']} of the run on"
            )
            run["estimate_quality"] = quality
        marks = run.get("milestones", {})
        if marks:
            start = min(marks.values())
            print(
                "train step milestones (s after training began): "
                + ", ".join(
                    f"{k} {v - start:.0f}" for k, v in sorted(marks.items(), key=lambda kv: kv[1])
                )
            )


PHASE_ORDER = [
    "start-up and imports", "loading", "ladder", "drivers", "validation", "screening",
    "selection", "holdout fit", "holdout forecast", "intervals", "scoring", "writing",
]  # fmt: skip


def markdown(results: list[dict]) -> str:
    """The backtests' phases and models, and the runs' steps, as Markdown tables."""
    bts = [r for r in results if "phases" in r.get("backtest", {})]
    lines = []
    if bts:
        lines += ["| phase (s) | " + " | ".join(r["name"] for r in bts) + " |"]
        lines += ["|---|" + "---|" * len(bts)]
        for phase in PHASE_ORDER:
            if any(r["backtest"]["phases"].get(phase) for r in bts):
                cells = [f"{r['backtest']['phases'].get(phase, 0):.1f}" for r in bts]
                lines += [f"| {phase} | " + " | ".join(cells) + " |"]
        rows = {
            "**default backtest, whole process**": [
                f"**{r['backtest']['seconds']:.1f}**" for r in bts
            ],
            "AutoETS script, whole process": [f"{r['peer']['seconds']:.1f}" for r in bts],
            "**ours / AutoETS**": [
                f"**{r['backtest']['seconds'] / r['peer']['seconds']:.2f}x**" for r in bts
            ],
            "peak MB, ours / AutoETS": [
                f"{r['backtest']['peak_mb']:.0f} / {r['peer']['peak_mb']:.0f}" for r in bts
            ],
        }  # fmt: skip
        lines += [f"| {k} | " + " | ".join(v) + " |" for k, v in rows.items()]
        models = sorted({m for r in bts for m, _, _ in r["backtest"]["models"]})
        lines += [
            "",
            "| model: validation / held-out (s) | " + " | ".join(r["name"] for r in bts) + " |",
        ]
        lines += ["|---|" + "---|" * len(bts)]
        for model in models:
            cells = []
            for r in bts:
                parts = r["backtest"]["models"]
                val = sum(s for m, p, s in parts if m == model and p == "validation")
                held = sum(s for m, p, s in parts if m == model and p.startswith("holdout"))
                cells.append(f"{val:.1f} / {held:.1f}")
            lines += [f"| {model} | " + " | ".join(cells) + " |"]
    runs = [r for r in results if "run" in r]
    if runs:
        steps = ["ingest", "eda", "train", "forecast"]
        lines += ["", "| default run (s) | " + " | ".join(r["name"] for r in runs) + " |"]
        lines += ["|---|" + "---|" * len(runs)]
        for step in steps:
            cells = [f"{r['run'].get('steps', {}).get(step, 0):.1f}" for r in runs]
            lines += [f"| {step} | " + " | ".join(cells) + " |"]
        lines += [
            "| **whole process** | "
            + " | ".join(f"**{r['run']['seconds']:.1f}**" for r in runs)
            + " |"
        ]
        lines += [
            "| ours / AutoETS | "
            + " | ".join(f"{r['run']['seconds'] / r['peer']['seconds']:.2f}x" for r in runs)
            + " |"
        ]
        lines += ["| peak MB | " + " | ".join(f"{r['run']['peak_mb']:.0f}" for r in runs) + " |"]
        left = []
        for r in runs:
            q = r["run"].get("estimate_quality") or estimate_quality(
                r["run"].get("estimates", []), r["run"]["seconds"]
            )
            half = q.get("at_half") if q else None
            left.append(
                f"{half['estimated_left']:.0f} / {half['truly_left']:.0f}" if half else "n/a"
            )
        lines += ["| time left at half way, estimated / true (s) | " + " | ".join(left) + " |"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--datasets", default=",".join(PANELS))
    parser.add_argument("--what", default="backtest,run", help="backtest, run or both")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per data set (medians)")
    parser.add_argument("--work", type=Path, help="keep logs and data directories here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--markdown", type=Path, help="print the tables of a --json file, run nothing"
    )
    args, rest = parser.parse_known_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    if args.child:
        out, spawned = args.child
        child_backtest(rest, out, float(spawned))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="cost-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.datasets.split(","):
        what = set(args.what.split(","))
        results.append(measure(name, args.data.resolve(), work, what, args.repeat))
        print_report(results[-1])
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
    print("\n" + markdown(results))
    print(f"\nlogs in {work}")


if __name__ == "__main__":
    main()
