"""The peers' held-out forecasts on the seven panels, computed once and kept in ``bench/peers/``.

Every peer is fitted on the rows the product trains on in its default backtest
(the panel as the product reads it, the last H periods of every series held
out: ``forecasting.evaluation.backtest.holdout_split``) and forecasts those H periods. The
forecasts are kept as data (``peers/<panel>.csv.gz``) with the versions and
seconds that made them and a fingerprint of the training rows
(``peers/<panel>.json``), so ``bench/suite.py`` scores ours against them with
the same metric code in minutes instead of hours. Rerun when a library is
upgraded or the reading of a panel changes (the suite says when the
fingerprint no longer matches).

    pip install -e '.[bench]'
    python bench/peers.py --data ../shared/data [--panels m3,tourism] [--peers autoets,...]

Peers: statsforecast 2 (Naive, SeasonalNaive, CrostonOptimized, ADIDA, IMAPA,
AutoETS, AutoARIMA, AutoTheta; ``n_jobs=2``, Naive as the fallback), Prophet
with its defaults, and mlforecast's LightGBM recipe (lags, rolling means,
calendar features, per-series scaling).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import joblib
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from panels import PANELS, load

KEPT = Path(__file__).resolve().parent / "peers"
PEERS = [
    "naive_sf",
    "seasonal_naive_sf",
    "croston_sf",
    "adida_sf",
    "imapa_sf",
    "autoets",
    "autoarima",
    "autotheta",
    "prophet_default",
    "lightgbm",
]
LIBRARIES = ("statsforecast", "prophet", "mlforecast", "lightgbm", "pandas", "numpy")


def fingerprint(train: pd.DataFrame) -> str:
    """A hash of the training rows (series, dates, values): kept peers are valid while it
    matches."""
    rows = train[["unique_id", "ds", "y"]].reset_index(drop=True)
    digest = pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes()
    return hashlib.sha256(digest).hexdigest()[:16]


def statsforecast_peer(train: pd.DataFrame, h: int, freq: str, m: int, name: str):
    from statsforecast import StatsForecast
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
        Naive,
        SeasonalNaive,
    )

    table = {
        "naive_sf": lambda: Naive(alias="naive_sf"),
        "seasonal_naive_sf": lambda: SeasonalNaive(season_length=m, alias="seasonal_naive_sf"),
        "croston_sf": lambda: CrostonOptimized(alias="croston_sf"),
        "adida_sf": lambda: ADIDA(alias="adida_sf"),
        "imapa_sf": lambda: IMAPA(alias="imapa_sf"),
        "autoets": lambda: AutoETS(season_length=m, alias="autoets"),
        "autoarima": lambda: AutoARIMA(season_length=m, alias="autoarima"),
        "autotheta": lambda: AutoTheta(season_length=m, alias="autotheta"),
    }
    sf = StatsForecast(models=[table[name]()], freq=freq, n_jobs=2, fallback_model=Naive())
    pred = sf.forecast(df=train[["unique_id", "ds", "y"]], h=h)
    return pred.reset_index()[["unique_id", "ds", name]]


def _prophet_one(uid, frame, h, freq):
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True
    model = Prophet().fit(frame)
    future = model.make_future_dataframe(h, freq=freq, include_history=False)
    pred = model.predict(future)[["ds", "yhat"]]
    pred["unique_id"] = uid
    return pred


def prophet_peer(train: pd.DataFrame, h: int, freq: str, m: int, name: str):
    parts = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_prophet_one)(uid, g[["ds", "y"]], h, freq)
        for uid, g in train.groupby("unique_id", sort=False)
        if len(g) >= 2
    )
    return pd.concat(parts).rename(columns={"yhat": name})


def lightgbm_peer(train: pd.DataFrame, h: int, freq: str, m: int, name: str):
    """mlforecast's recipe: lags, rolling means, calendar features, per-series scaling."""
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import ExpandingMean, RollingMean
    from mlforecast.target_transforms import LocalStandardScaler

    lags = sorted({1, 2, 3, m})
    dates = {"D": ["dayofweek", "month"], "MS": ["month"]}.get(freq, ["month"])
    forecaster = MLForecast(
        models={name: LGBMRegressor(verbosity=-1, n_jobs=2, random_state=0)},
        freq=freq,
        lags=lags,
        lag_transforms={1: [ExpandingMean(), RollingMean(window_size=m)]},
        date_features=dates,
        target_transforms=[LocalStandardScaler()],
    )
    frame = train[["unique_id", "ds", "y"]]
    forecaster.fit(frame, static_features=[], dropna=False)
    return forecaster.predict(h)


PEER_FUNCTIONS = {"prophet_default": prophet_peer, "lightgbm": lightgbm_peer}


def compute(name: str, data: Path, peers: list[str]) -> None:
    """Fit each peer on the panel's training rows; keep the forecasts and what made them."""
    from forecasting.evaluation.backtest import holdout_split

    panel = PANELS[name]
    dataset, h = load(name, data)
    train, _ = holdout_split(dataset.frame, h)
    KEPT.mkdir(exist_ok=True)
    forecasts_path, meta_path = KEPT / f"{name}.csv.gz", KEPT / f"{name}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"seconds": {}}
    kept = pd.read_csv(forecasts_path, parse_dates=["ds"]) if forecasts_path.exists() else None
    if meta.get("fingerprint") != fingerprint(train):
        kept, meta = None, {"seconds": {}}  # the reading changed: every peer again
    for peer in peers:
        started = time.perf_counter()
        fn = PEER_FUNCTIONS.get(peer, statsforecast_peer)
        pred = fn(train, h, panel.freq, panel.season, peer)[["unique_id", "ds", peer]]
        meta["seconds"][peer] = round(time.perf_counter() - started, 1)
        print(f"{name}: {peer} in {meta['seconds'][peer]:.0f} s", flush=True)
        pred[peer] = pred[peer].astype(float).round(6)
        if kept is None:
            kept = pred
        else:
            kept = kept.drop(columns=[peer], errors="ignore").merge(
                pred, on=["unique_id", "ds"], how="outer"
            )
        kept.to_csv(forecasts_path, index=False, compression="gzip")
        meta |= {
            "fingerprint": fingerprint(train),
            "series": int(train["unique_id"].nunique()),
            "training_rows": len(train),
            "horizon": h,
            "versions": {lib: version(lib) for lib in LIBRARIES},
            "computed": time.strftime("%Y-%m-%d"),
            "machine": "2 cores, n_jobs=2",
        }
        meta_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--panels", default=",".join(PANELS))
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR)
    for name in args.panels.split(","):
        compute(name, args.data.resolve(), [p for p in args.peers.split(",") if p])


if __name__ == "__main__":
    main()
