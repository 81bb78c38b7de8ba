"""The memory of a catalogue's choice (issue 30): pooling every partition's validation
folds and choosing what serves each series, at M5's size, without validating M5.

The partitioned backtest validates partition by partition, then pools the folds of
every series into one table and chooses on it; at 30,490 series that step was the
backtest's peak (5.6 GB, `bench/RESULTS.md`). Here a small synthetic daily panel is
validated for real (`forecasting.partitioned._validate_all`), and its partitions'
folds, scales and profiles are copied under new series names until the catalogue
has ``--series`` series; then the choice runs as the backtest runs it (pool, select,
bands) while a thread samples this process's resident memory. Prints each step's rise
over the memory held before it, then the choice's peak, its rise over the memory held
before it and its seconds. ``--code`` runs another checkout.

    python bench/choice_memory.py [--series 30490] [--base 300] [--code WORKTREE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, print_table

H, DAYS, PARTITION_SERIES = 28, 730, 150


def panel(n: int, seed: int = 0) -> pd.DataFrame:
    """Daily series: a third slow movers, the rest a weekly pattern around a level."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-01", periods=DAYS, freq="D")
    week = 1 + 0.3 * np.sin(2 * np.pi * np.arange(DAYS) / 7)
    frames = []
    for i in range(n):
        if i % 3 == 0:
            y = rng.poisson(0.4, DAYS).astype(float)
        else:
            y = np.round(rng.uniform(5, 200) * week * rng.lognormal(0, 0.2, DAYS), 1)
        frames.append(pd.DataFrame({"unique_id": f"s{i:05d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


class Peak(threading.Thread):
    """This process's largest resident memory while it runs, in MB."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.done = psutil.Process(), 0.0, False

    def run(self) -> None:
        while not self.done:
            self.peak = max(self.peak, self.process.memory_info().rss / 1e6)
            time.sleep(0.02)


def renamed(frame, k: int, level: bool = False):
    """``frame`` with every series name given the suffix of copy ``k``."""
    suffix = f"-{k}"
    if level:  # a frame or series indexed by unique_id (alone or first of a MultiIndex)
        index = frame.index
        if isinstance(index, pd.MultiIndex):
            names = index.get_level_values(0).astype(str) + suffix
            index = pd.MultiIndex.from_arrays([names, *(index.get_level_values(i) for i in
                                                        range(1, index.nlevels))],
                                              names=index.names)  # fmt: skip
        else:
            index = pd.Index(index.astype(str) + suffix, name=index.name)
        return frame.set_axis(index)
    return frame.assign(unique_id=frame["unique_id"].astype(str) + suffix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=30_490)
    parser.add_argument("--base", type=int, default=300, help="series validated for real")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    import joblib

    from forecasting.data.frequency import frequency_from_alias
    from forecasting.data.partitions import Partitions
    from forecasting.data.spec import DataSpec
    from forecasting.evaluation.options import TrainOptions
    from forecasting.evaluation.validation import select_served
    from forecasting.partitioned import _validate_all
    from forecasting.progress import Reporter
    from forecasting.serving.build import band_quantiles

    spec = DataSpec(frequency_from_alias("D"), country=None)
    options, _ = TrainOptions().for_panel(args.base, False)
    with tempfile.TemporaryDirectory() as folder:
        df = panel(args.base)
        parts = Partitions.cut(df, Path(folder), rows=PARTITION_SERIES * DAYS)
        started = time.perf_counter()
        with joblib.parallel_config(n_jobs=2):
            spec, _, validated, options = _validate_all(
                parts, spec, H, H, options, Reporter(), Path(folder)
            )
        validating = time.perf_counter() - started
    copies = -(-args.series // args.base)
    base = (list(validated.folds), list(validated.scales), list(validated.profiles),
            list(validated.series_scales))  # fmt: skip
    validated.folds, validated.scales, validated.profiles, validated.series_scales = [], [], [], []
    for k in range(copies):
        for (table, models), scales, profile, scale in zip(*base, strict=True):
            validated.folds.append((renamed(table, k), models))
            validated.scales.append(renamed(scales, k, level=True))
            validated.profiles.append(renamed(profile, k, level=True))
            validated.series_scales.append(renamed(scale, k, level=True))
    for name in validated.scored:
        validated.scored[name] *= copies
    del base
    series = copies * args.base
    profile = pd.concat(validated.profiles)
    scales = pd.concat(validated.scales)
    scale = pd.concat(validated.series_scales)
    held = psutil.Process().memory_info().rss / 1e6
    peak = Peak()
    peak.start()
    steps = []

    def step(label: str, work):
        """``work()``, with the rise of its own peak over what was held before it."""
        before = peak.process.memory_info().rss / 1e6
        peak.peak, started = before, time.perf_counter()
        out = work()
        steps.append({"step": label, "held before, MB": f"{before:,.0f}",
                      "rise, MB": f"{peak.peak - before:,.0f}",
                      "s": f"{time.perf_counter() - started:.1f}"})  # fmt: skip
        return out

    top, started = 0.0, time.perf_counter()
    tuning = step("pool the partitions' folds", validated.pooled)
    top = max(top, peak.peak)
    selection = step("select", lambda: select_served(tuning, scales, options, profile, False))
    top = max(top, peak.peak)
    step("band quantiles", lambda: band_quantiles(selection, set(tuning), scale, H, False))
    top = max(top, peak.peak)
    seconds = time.perf_counter() - started
    peak.done = True
    peak.join()
    peak.peak = top
    served = selection.choice.value_counts()
    print_table(steps)
    print_table(
        [
            {
                "code": args.code.name or str(args.code),
                "series": f"{series:,}",
                "partitions": len(validated.profiles),
                "models": len(tuning),
                "held before, MB": f"{held:,.0f}",
                "peak, MB": f"{peak.peak:,.0f}",
                "rise, MB": f"{peak.peak - held:,.0f}",
                "choice s": f"{seconds:.1f}",
                "validating the base s": f"{validating:.1f}",
                "served": ", ".join(f"{k} {v:,}" for k, v in served.head(3).items()),
            }
        ]
    )


if __name__ == "__main__":
    main()
