"""Build-time check of the image: the libraries that carry native code load and work.

Run by the Dockerfile in the final stage, so a missing shared library or a
broken CmdStan fails the build instead of the first training run. Runs in a
few seconds and writes nothing outside a temporary folder.
"""

from __future__ import annotations

import logging
import tempfile

import numpy as np
import pandas as pd


def check_prophet() -> None:
    # Prophet's wheel bundles CmdStan; this fit fails if the binary cannot run
    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    history = pd.DataFrame({"ds": days, "y": 10 + np.sin(np.arange(120) * 2 * np.pi / 7)})
    forecast = Prophet().fit(history).predict(history.tail(7))
    assert forecast["yhat"].notna().all(), "Prophet forecast has gaps"


def check_xgboost() -> None:
    import xgboost

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    model = xgboost.XGBRegressor(n_estimators=5, n_jobs=1).fit(x, x[:, 0])
    assert np.isfinite(model.predict(x)).all(), "xgboost predicts non-finite values"


def check_app() -> None:
    from dashapp import create_app

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"DATA_DIR": data_dir})
        response = app.server.test_client().get("/health")
        assert response.status_code == 200, response.get_data(as_text=True)
        app.server.extensions["salesforecast"].system.db.dispose()


if __name__ == "__main__":
    check_prophet()
    check_xgboost()
    check_app()
    print("smoke test passed: prophet (CmdStan), xgboost, the app's /health")
