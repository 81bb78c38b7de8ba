"""Peak memory of a global tree model's fit as the catalogue grows (issue 30).

The synthetic daily panels of ``bench/scale.py`` (two years of days, a third of the
series intermittent); for each size, one process reads the panel as the product
does and fits xgboost then random_forest on every series, and its peak memory is
sampled from outside. With ``--vs DIR`` (a worktree of an older commit) the same
fits run on that code too, in the same run, and the forecasts are compared.

    python bench/tree_memory.py --data ../shared/data --sizes 1000,3000,10000 [--vs DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, print_table, succeeded
from scale import source_shapes, synthetic_panel

FIT = """
import json, pickle, sys, time
import numpy as np
from forecasting.data.dataset import prepare
from forecasting.data.limits import Limits
from forecasting.models import MODELS
csv, out = sys.argv[1], sys.argv[2]
roomy = Limits(max_bytes=2**40, max_rows=10**9, max_series=10**7)  # a catalogue
data = prepare(csv, horizon=28, limits=roomy)
seconds, rows = {}, {}
forecasts = {}
for name in ("xgboost", "random_forest"):
    started = time.perf_counter()
    model = MODELS[name]().fit(data.frame, data.spec)
    forecasts[name] = model.predict(28)["yhat"].to_numpy()
    seconds[name] = time.perf_counter() - started
    rows[name] = getattr(model, "train_rows_", None)
    del model
pickle.dump({"seconds": seconds, "rows": rows, "forecasts": forecasts}, open(out, "wb"))
"""


def measure(code: Path, csv: Path, work: Path, tag: str) -> dict:
    out = work / f"{csv.stem}-{tag}.pkl"
    script = work / "fit_trees.py"
    script.write_text(FIT)
    cmd = [sys.executable, str(script), str(csv), str(out)]
    result = succeeded(cmd, work / f"{csv.stem}-{tag}.log", code=code)
    import pickle

    result.update(pickle.loads(out.read_bytes()))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--vs", type=Path, help="a worktree of the code to compare with")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import numpy as np

    work = args.work or Path(tempfile.mkdtemp(prefix="tree-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    smooth, intermittent = source_shapes(args.data)
    codes = {"this": ROOT, **({"vs": args.vs.resolve()} if args.vs else {})}
    table = []
    for n in [int(s) for s in args.sizes.split(",")]:
        csv = work / f"panel-{n}.csv"
        if not csv.exists():
            synthetic_panel(n, smooth, intermittent).to_csv(csv, index=False)
        runs = {tag: measure(code, csv, work, tag) for tag, code in codes.items()}
        row = {"series": n}
        for tag, r in runs.items():
            row[f"{tag} peak MB"] = round(r["peak_mb"])
            row[f"{tag} s"] = round(sum(r["seconds"].values()), 1)
            row[f"{tag} rows"] = r["rows"]["xgboost"]
        if "vs" in runs:
            row["same forecasts"] = all(
                np.array_equal(runs["this"]["forecasts"][m], runs["vs"]["forecasts"][m])
                for m in runs["this"]["forecasts"]
            )
        table.append(row)
        print(json.dumps(row), flush=True)
    print_table(table)
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
