"""Which selection rule serves best: one backtest per data set, every rule scored on it.

Selection only decides how the models' forecasts are combined, so each data
set is backtested once (default options, every model), its validation and
held-out forecasts kept in a cache, and each rule (mode x largest ensemble)
is replayed on them: chosen on the validation folds, scored on the held-out
window by mean MASE and mean RMSSE, as ``bench/accuracy.py`` scores.

    python bench/selection.py --data ../shared/data --cache /tmp/selection-cache
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import joblib
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import DATASETS, load

#: (mode, k, strategy): "best" serves the candidate (a model or an ensemble of up to k of the
#: best models) with the best validation score; "top" always serves the mean of the k best;
#: "marginN" is "best" where an ensemble must beat the best single model by N% on validation;
#: "tN" is "marginN" or a gain with a paired t statistic of 2 over the series sharing the choice
RULES = [
    *[(mode, k, "best") for mode in ("global", "per_class", "per_series") for k in (1, 3)],
    *[(mode, k, "top") for mode in ("global", "per_class", "per_series") for k in (3, 5)],
    *[(mode, 3, f"margin{m}") for mode in ("global", "per_class") for m in (2, 5, 10)],
    *[(mode, k, "t10") for mode in ("global", "per_class") for k in (3, 5)],
    *[(mode, 5, f"margin{m}") for mode in ("global", "per_class") for m in (5, 10)],
]


def backtested(name: str, data_root: Path, cache: Path) -> dict:
    """The validation and held-out forecasts of every model on one data set (cached)."""
    path = cache / f"{name}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    from forecasting.backtest import fold_scales, holdout_split
    from forecasting.workflow import TrainOptions, backtest

    data, h = load(name, data_root)
    options = TrainOptions()
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


def score_rule(kept: dict, mode: str, k: int, strategy: str) -> tuple[float, float, dict]:
    from forecasting.metrics import evaluate, summarize
    from forecasting.models import MODELS
    from forecasting.selection import combine, select

    short_ok = {m for m in kept["cvs"] if MODELS[m].short_ok}
    seasonal = {m for m in kept["cvs"] if MODELS[m].needs_whole_season}
    tested = strategy.startswith("t") and strategy[1:].isdigit()
    number = strategy.removeprefix("margin").removeprefix("t")
    margin = int(number) / 100 if number.isdigit() else 0.0
    selection = select(kept["cvs"], kept["scales"], mode, k, kept["profile"], short_ok, margin,
                       seasonal, ensemble_test=tested)  # fmt: skip
    if strategy == "top":
        selection = top_k(selection, kept, mode, k)
    actuals = kept["actuals"].copy()
    served = combine(actuals, selection)
    on_rule = actuals["unique_id"].map(selection.choice).isin(["zero", "level"])
    actuals["rule"] = served.where(~on_rule, actuals["selected"])
    per_series = evaluate(actuals, kept["train"], ["rule"], kept["season_length"])
    row = summarize(per_series, actuals).loc["rule"]
    return (
        float(row["mase"]),
        float(row["rmsse"]),
        selection.choice.value_counts().head(3).to_dict(),
        rule_coverage(kept, selection, actuals.loc[~on_rule]),
    )


def rule_coverage(kept: dict, selection, rows: pd.DataFrame) -> dict[str, float]:
    """Held-out coverage of the 80/95% bands the rule would serve: each candidate's
    conformal quantiles on its validation forecasts, as ``serving.serving_model`` builds them."""
    from forecasting.intervals import LEVELS, apply_intervals, conformal_quantiles, coverage
    from forecasting.metrics import naive_scale

    grouped = kept["train"].groupby("unique_id", sort=False)["y"]
    m = kept["season_length"]
    scale = grouped.apply(lambda y: naive_scale(y.to_numpy(float), m, 1))
    nonnegative = grouped.min() >= 0
    chosen = rows["unique_id"].map(selection.choice)
    parts = []
    for cand in chosen.unique():
        mine = rows.loc[chosen == cand, ["unique_id", "ds", "y", "rule"]]
        table = selection.table
        if cand not in table:  # an ensemble only the "top" strategy makes
            table = table.assign(**{cand: table[selection.members[cand]].mean(axis=1)})
        quantiles = conformal_quantiles(table, scale, cand)
        mine = mine.sort_values(["unique_id", "ds"])
        banded = apply_intervals(mine.rename(columns={"rule": "yhat"}), quantiles, scale,
                                 nonnegative)  # fmt: skip
        parts.append(banded)
    return {k: round(v, 3) for k, v in coverage(pd.concat(parts), LEVELS).items()}


def top_k(selection, kept: dict, mode: str, k: int):
    """Serve the mean of the k best single models (of the mode's group) to each long series."""
    from forecasting.selection import ensemble_name

    singles = selection.scores[list(kept["cvs"])]
    classes = kept["profile"]["demand_class"].reindex(singles.index)
    if mode == "global":
        groups = [singles.index]
    elif mode == "per_class":
        groups = [singles.index[classes == c] for c in classes.unique()]
    else:
        groups = [pd.Index([uid]) for uid in singles.index]
    choice = selection.choice.copy()
    members = dict(selection.members)
    for index in groups:
        top = singles.loc[index].mean().nsmallest(k).index.tolist()
        name = ensemble_name(top)
        members[name] = top
        choice[index] = name
    selection.members, selection.choice = members, choice
    return selection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/selection-cache"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows = []
    for name in args.datasets.split(","):
        kept = backtested(name, args.data, args.cache)
        from forecasting.metrics import evaluate, summarize

        singles = summarize(
            evaluate(kept["actuals"], kept["train"], kept["models"], kept["season_length"]),
            kept["actuals"],
        )
        best = singles["rmsse"].idxmin()
        print(f"\n== {name}: best single model on the held-out window (hindsight): {best} "
              f"{singles.loc[best, 'mase']:.3f} / {singles.loc[best, 'rmsse']:.3f}")  # fmt: skip
        for mode, k, strategy in RULES:
            mase, rmsse, top, cov = score_rule(kept, mode, k, strategy)
            rows.append({"data": name, "rule": f"{mode} {strategy} {k}", "mase": mase,
                         "rmsse": rmsse})  # fmt: skip
            print(f"{mode:<11} {strategy} k={k}  MASE {mase:.3f}  RMSSE {rmsse:.3f}  {cov}  {top}")
    table = pd.DataFrame(rows)
    ranks = table.groupby("data")[["mase", "rmsse"]].rank()
    table["mean_rank"] = ranks.mean(axis=1)
    print("\nmean rank over data sets and both metrics (lower is better):")
    print(table.groupby("rule")["mean_rank"].mean().sort_values().round(2))
    print(table.pivot(index="rule", columns="data", values=["mase", "rmsse"]).round(3).to_string())


if __name__ == "__main__":
    main()
