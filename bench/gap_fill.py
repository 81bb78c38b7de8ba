"""How close filled months come to the months that were really there.

Three consecutive periods are removed from the inside of every series of a panel
(at a position drawn with a fixed seed, away from the ends) and filled the way the
product fills a gap inside a series (``forecasting.data.gaps._interpolate_inside``: with
the series' season where it has a stable one, else on a straight line), next to a
straight line for every series. Printed: the mean absolute error of the filled
values over the series' mean level, median and mean over series, and how many
series the seasonal fill took.

    python bench/gap_fill.py [--data ../shared/data] [--panels tourism,m3,carparts]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from panels import PANELS, load

from forecasting.data.gaps import _interpolate_inside, _linear_inside

GAP = 3


def measure(name: str, data: Path, seed: int = 0) -> dict:
    dataset, _ = load(name, data)
    df = dataset.cleaned.frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    y = df["y"].astype(float).copy()
    truth, holes, seasonal_series = [], np.zeros(len(df), bool), 0
    for _uid, rows in df.groupby("unique_id", sort=False).indices.items():
        if len(rows) < 2 * PANELS[name].season + GAP + 1:
            continue
        start = int(rng.integers(PANELS[name].season, len(rows) - PANELS[name].season - GAP))
        holes[rows[start : start + GAP]] = True
    truth = y[holes].to_numpy()
    gappy = y.mask(holes)
    season = _interpolate_inside(gappy, df["unique_id"], PANELS[name].season)
    line = _linear_inside(gappy, df["unique_id"])
    level = df.groupby("unique_id")["y"].transform(lambda v: v.abs().mean()).to_numpy()[holes]
    ids = df["unique_id"].to_numpy()[holes]
    errors = (
        pd.DataFrame(
            {
                "id": ids,
                "seasonal": np.abs(season[holes].to_numpy() - truth) / level,
                "line": np.abs(line[holes].to_numpy() - truth) / level,
            }
        )
        .groupby("id")
        .mean()
    )
    seasonal_series = int((~np.isclose(errors["seasonal"], errors["line"])).sum())
    return {
        "panel": name,
        "series": len(errors),
        "seasonal fill taken": seasonal_series,
        "median error, product": errors["seasonal"].median(),
        "median error, line": errors["line"].median(),
        "mean error, product": errors["seasonal"].mean(),
        "mean error, line": errors["line"].mean(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--panels", default="tourism,m3,carparts,walmart")
    args = parser.parse_args()
    rows = [measure(name, args.data) for name in args.panels.split(",")]
    print(f"error of {GAP} filled periods inside each series, over the series' mean level")
    print("| " + " | ".join(rows[0]) + " |")
    print("|---" * len(rows[0]) + "|")
    for row in rows:
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
