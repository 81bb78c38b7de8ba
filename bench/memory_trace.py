"""Where a command's memory lives over time: its main process against its helpers.

``bench/catalogue.py`` gives a backtest's peak per phase for the whole process tree.
When that peak grows with the catalogue, the next question is whose memory grows: the
main process (what the backtest keeps, or what its allocator does not give back) or
the worker processes (joblib's, which live for the whole backtest). This samples each
process of the tree every ``--every`` seconds and prints, per minute, the main
process's resident memory, the helpers' sum and the largest helper, then the peaks.

    python bench/memory_trace.py [--every 1] [--csv trace.csv] -- python -m pipeline \\
        backtest --csv panel.csv ...
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import print_table

FIELDS = ["s", "main_mb", "helpers_mb", "largest_helper_mb", "helpers"]


def trace(command: list[str], every: float, log: Path | None, to: Path | None) -> list[dict]:
    """Samples ``{"s", "main_mb", "helpers_mb", "largest_helper_mb", "helpers"}``, each
    also written to the CSV file ``to`` as it is taken (a long trace can be read while
    it runs)."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    sink = open(to, "w", newline="") if to else None  # noqa: SIM115
    writer = csv.DictWriter(sink, fieldnames=FIELDS) if sink else None
    if writer:
        writer.writeheader()
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    root = psutil.Process(process.pid)
    started, samples = time.perf_counter(), []
    while process.poll() is None:
        with contextlib.suppress(psutil.Error):
            main = root.memory_info().rss / 2**20
            helpers = []
            for child in root.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    helpers.append(child.memory_info().rss / 2**20)
            samples.append(
                {
                    "s": round(time.perf_counter() - started, 1),
                    "main_mb": round(main),
                    "helpers_mb": round(sum(helpers)),
                    "largest_helper_mb": round(max(helpers, default=0.0)),
                    "helpers": len(helpers),
                }
            )
            if writer:
                writer.writerow(samples[-1])
                sink.flush()
        time.sleep(every)
    if log:
        out.close()
    if sink:
        sink.close()
    if process.returncode:
        raise SystemExit(f"the command failed (exit {process.returncode}); see {log}")
    return samples


def per_minute(samples: list[dict]) -> list[dict]:
    """The highest sample of each minute."""
    rows: dict[int, dict] = {}
    for sample in samples:
        minute = int(sample["s"] // 60)
        row = rows.setdefault(minute, {"minute": minute, "main_mb": 0, "helpers_mb": 0,
                                       "largest_helper_mb": 0, "total_mb": 0})  # fmt: skip
        for key in ("main_mb", "helpers_mb", "largest_helper_mb"):
            row[key] = max(row[key], sample[key])
        row["total_mb"] = max(row["total_mb"], sample["main_mb"] + sample["helpers_mb"])
    return list(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--csv", type=Path, help="every sample, written as it is taken")
    parser.add_argument("--log", type=Path, help="the command's output")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    samples = trace(command, args.every, args.log, args.csv)
    print_table(per_minute(samples))
    peak = max(samples, key=lambda s: s["main_mb"] + s["helpers_mb"])
    print(
        f"\npeak {peak['main_mb'] + peak['helpers_mb']:,} MB at {peak['s']} s: main "
        f"{peak['main_mb']:,} MB, helpers {peak['helpers_mb']:,} MB ({peak['helpers']}); "
        f"main's own peak {max(s['main_mb'] for s in samples):,} MB"
    )


if __name__ == "__main__":
    main()
