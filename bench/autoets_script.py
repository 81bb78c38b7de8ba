"""The peer every cost is measured against: a plain statsforecast AutoETS script.

What an analyst would write in a notebook: read the CSV with pandas, build the
``unique_id, ds, y`` frame, hold out the last H periods of every series, fit
AutoETS on all cores and forecast H. Run as a whole process by ``bench/cost.py``
on the same file as the product, so both sides pay their imports and reading.

    python bench/autoets_script.py --csv FILE --date COL --target COL [--id COL ...]
        --freq D --season 7 --horizon 28
"""

from __future__ import annotations

import argparse
import time

started = time.perf_counter()

import pandas as pd  # noqa: E402
from statsforecast import StatsForecast  # noqa: E402
from statsforecast.models import AutoETS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", required=True)
    parser.add_argument("--date", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--id", dest="ids", action="append", default=[])
    parser.add_argument("--freq", required=True)
    parser.add_argument("--season", type=int, required=True)
    parser.add_argument("--horizon", type=int, required=True)
    parser.add_argument("--out", help="write the forecasts to this CSV")
    args = parser.parse_args()
    raw = pd.read_csv(args.csv)
    ids = raw[args.ids].astype(str).agg("/".join, axis=1) if args.ids else "total"
    df = pd.DataFrame(
        {"unique_id": ids, "ds": pd.to_datetime(raw[args.date]), "y": raw[args.target]}
    )
    df = df.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    back = df.groupby("unique_id").cumcount(ascending=False)
    train = df[back >= args.horizon]
    # a series with only a few rows left cannot be fitted (statsforecast raises): dropped,
    # as a notebook would
    sizes = train.groupby("unique_id")["y"].transform("size")
    train = train[sizes >= 10]
    sf = StatsForecast(models=[AutoETS(season_length=args.season)], freq=args.freq, n_jobs=-1)
    forecast = sf.forecast(df=train, h=args.horizon)
    if args.out:
        forecast.to_csv(args.out, index=False)
    print(f"{len(forecast)} forecast rows in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
