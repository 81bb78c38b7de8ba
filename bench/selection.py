"""Which selection rule serves best: one backtest per panel, every rule replayed on it.

Selection only decides how the models' forecasts are combined, so each panel is
backtested once (default options, every model on every series, nothing screened),
its validation and held-out forecasts kept in a cache, and each rule is replayed
on them: chosen on the validation folds, scored on the held-out window by mean
MASE and mean RMSSE with the product's metric code. The rules:

- ``default``: each family's combination, left only beyond noise (``selection``);
- ``always combination``: the combinations, never left;
- ``best single start``: no combination; each pool starts on its best single model;
- ``loose test``: the default with a paired t of 1 and no minimum gain;
- ``global`` and ``per_series``: the other modes.

    python bench/selection.py --data ../shared/data --cache /tmp/selection-cache
"""

from __future__ import annotations

import argparse
import contextlib
import pickle
import sys
import warnings
from pathlib import Path

import joblib
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from panels import PANELS, load

#: name: (mode, module constants to set for the replay)
RULES = {
    "default": ("per_class", {}),
    "always combination": ("per_class", {"NOISE_T": float("inf")}),
    "best single start": ("per_class", {"ANCHORS": {}}),
    "loose test": ("per_class", {"NOISE_T": 1.0, "MIN_GAIN": 0.0}),
    "global": ("global", {}),
    "per_series": ("per_series", {}),
}


def backtested(name: str, data_root: Path, cache: Path) -> dict:
    """The validation and held-out forecasts of every model on one panel (cached)."""
    path = cache / f"{name}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    from forecasting.evaluation.backtest import fold_scales, holdout_split
    from forecasting.models import MODELS
    from forecasting.workflow import TrainOptions, backtest

    data, h = load(name, data_root)
    options = TrainOptions(models=tuple(MODELS))  # named: every model on every series
    with joblib.parallel_config(n_jobs=2):
        report = backtest(data.frame, data.spec, h, options)
    train, _ = holdout_split(data.frame, h)
    outcome = report.outcome
    kept = {
        "h": h,
        "season_length": data.spec.season_length,
        "train": train[["unique_id", "ds", "y"]],
        "cvs": {n: r.cv for n, r in outcome.tuning.items()},
        "scales": fold_scales(train, h, options.n_windows, data.spec.season_length),
        "profile": outcome.profile,
        "actuals": report.actuals,
        "models": [c for c in outcome.per_model.columns if c not in ("unique_id", "ds")],
    }
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(kept))
    return kept


@contextlib.contextmanager
def constants(values: dict):
    from forecasting.evaluation import selection

    before = {k: getattr(selection, k) for k in values}
    for k, v in values.items():
        setattr(selection, k, v)
    try:
        yield
    finally:
        for k, v in before.items():
            setattr(selection, k, v)


def score_rule(kept: dict, mode: str, values: dict) -> tuple[float, float, dict]:
    from forecasting.evaluation.metrics import evaluate, summarize
    from forecasting.evaluation.selection import MAX_ENSEMBLE, combine, select
    from forecasting.models import MODELS

    short_ok = {m for m in kept["cvs"] if MODELS[m].short_ok}
    seasonal = {m for m in kept["cvs"] if MODELS[m].needs_whole_season}
    with constants(values):
        selection = select(kept["cvs"], kept["scales"], mode, MAX_ENSEMBLE, kept["profile"],
                           short_ok, seasonal)  # fmt: skip
    actuals = kept["actuals"].copy()
    served = combine(actuals, selection)
    on_rule = actuals["unique_id"].map(selection.choice).isin(["zero", "level"])
    actuals["rule"] = served.where(~on_rule, actuals["selected"])
    per_series = evaluate(actuals, kept["train"], ["rule"], kept["season_length"])
    row = summarize(per_series, actuals).loc["rule"]
    top = selection.choice.value_counts().head(3).to_dict()
    return float(row["mase"]), float(row["rmsse"]), top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--panels", default=",".join(PANELS))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/selection-cache"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows = []
    for name in args.panels.split(","):
        kept = backtested(name, args.data, args.cache)
        print(f"\n== {name}")
        for rule, (mode, values) in RULES.items():
            mase, rmsse, top = score_rule(kept, mode, values)
            rows.append({"panel": name, "rule": rule, "mase": mase, "rmsse": rmsse})
            print(f"{rule:<20} MASE {mase:.3f}  RMSSE {rmsse:.3f}  {top}")
    table = pd.DataFrame(rows)
    ranks = table.groupby("panel")[["mase", "rmsse"]].rank()
    table["mean_rank"] = ranks.mean(axis=1)
    print("\nmean rank over panels and both metrics (lower is better):")
    print(table.groupby("rule")["mean_rank"].mean().sort_values().round(2))
    print(table.pivot(index="rule", columns="panel", values=["mase", "rmsse"]).round(3).to_string())


if __name__ == "__main__":
    main()
