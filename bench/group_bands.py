"""Bands of sums of series on held-out data: summed bands against bands calibrated on the sum.

Replays the cached backtests of ``bench/selection.py`` (every model's validation
and held-out forecasts): the default selection serves each validated series,
its bands come from the validation folds as in production, and for the total,
each store (where the ids name one) and random groups of 10 and 50 series the
held-out sum is checked against (a) the sum of the members' bands and (b) the
bands of ``forecasting.evaluation.group_bands``, calibrated on the sum's validation errors.

    python bench/group_bands.py --cache /tmp/selection-cache --datasets carparts_t,m5
"""

from __future__ import annotations

import argparse
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def served_rows(kept: dict):
    """Held-out rows of the validated series: served forecast, bands, candidate; and the
    validation errors, scales and signs the serving model would keep."""
    from forecasting.evaluation.group_bands import validation_errors
    from forecasting.evaluation.intervals import apply_intervals, conformal_quantiles
    from forecasting.evaluation.metrics import naive_scale
    from forecasting.evaluation.selection import DEFAULT_MODE, MAX_ENSEMBLE, combine, select
    from forecasting.models import MODELS

    short_ok = {m for m in kept["cvs"] if MODELS[m].short_ok}
    seasonal = {m for m in kept["cvs"] if MODELS[m].needs_whole_season}
    selection = select(
        kept["cvs"], kept["scales"], DEFAULT_MODE, MAX_ENSEMBLE, kept["profile"], short_ok,
        seasonal,
    )  # fmt: skip
    validated = selection.scores.index
    actuals = kept["actuals"].loc[kept["actuals"]["unique_id"].isin(validated)].copy()
    actuals = actuals.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    train = kept["train"].groupby("unique_id", sort=False)["y"]
    scale = train.apply(lambda y: naive_scale(y.to_numpy(float), kept["season_length"], 1))
    nonnegative = train.min() >= 0
    rows = actuals[["unique_id", "ds", "y"]].assign(yhat=combine(actuals, selection))
    rows["model"] = rows["unique_id"].map(selection.choice)
    parts = [
        apply_intervals(part, conformal_quantiles(selection.table, scale, cand), scale, nonnegative)
        for cand, part in rows.groupby("model", sort=False)
    ]
    rows = pd.concat(parts).sort_index().assign(extrapolated=False)
    errors = validation_errors(selection.table, set(selection.choice))
    return rows, errors, scale, nonnegative


def groups(ids: pd.Index, rng: np.random.Generator) -> dict[str, list[list[str]]]:
    out = {"total": [list(ids)]}
    stores = ids.str.extract(r"store(?:_id)?=([^/]+)")[0]
    if stores.notna().all() and 1 < stores.nunique() < len(ids):
        out["store"] = [list(ids[stores == s]) for s in stores.unique()]
    for size in (10, 50):
        if len(ids) >= 2 * size:
            out[f"random {size}"] = [list(rng.choice(ids, size, replace=False)) for _ in range(200)]
    return out


def measure(kept: dict, seed: int = 0) -> pd.DataFrame:
    from forecasting.evaluation.group_bands import sum_with_bands

    rows, errors, scale, nonnegative = served_rows(kept)
    ids = pd.Index(rows["unique_id"].unique())
    table = []
    for kind, members_list in groups(ids, np.random.default_rng(seed)).items():
        inside = {(way, lv): [] for way in ("summed", "calibrated") for lv in (80, 95)}
        widths = {"summed": [], "calibrated": []}
        for members in members_list:
            part = rows.loc[rows["unique_id"].isin(members)]
            truth = part.groupby("ds", sort=True)["y"].sum().to_numpy()
            summed = sum_with_bands(part, None, scale, nonnegative)
            calibrated = sum_with_bands(part, errors, scale, nonnegative)
            for way, frame in (("summed", summed), ("calibrated", calibrated)):
                for lv in (80, 95):
                    hit = (truth >= frame[f"lo{lv}"]) & (truth <= frame[f"hi{lv}"])
                    inside[(way, lv)] += list(hit)
                widths[way] += list(frame["hi80"] - frame["lo80"])
        table.append(
            {
                "groups": kind,
                "n": len(members_list),
                "points": len(inside[("summed", 80)]),
                "summed 80/95": f"{np.mean(inside[('summed', 80)]):.1%} / "
                f"{np.mean(inside[('summed', 95)]):.1%}",
                "calibrated 80/95": f"{np.mean(inside[('calibrated', 80)]):.1%} / "
                f"{np.mean(inside[('calibrated', 95)]):.1%}",
                "80% width, calibrated / summed": round(
                    float(np.mean(widths["calibrated"]) / np.mean(widths["summed"])), 3
                ),
            }
        )
    return pd.DataFrame(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/selection-cache"))
    parser.add_argument("--datasets", default="carparts_t,favorita_t,m5")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    for name in args.datasets.split(","):
        kept = pickle.loads((args.cache / f"{name}.pkl").read_bytes())
        print(f"\n== {name}: held-out H={kept['h']}")
        print(measure(kept).to_string(index=False))


if __name__ == "__main__":
    main()
