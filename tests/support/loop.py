"""The planner's loop's yardstick: a history cut at ``CUT``, and the accuracy figures of a
stored forecast against the months appended after it, computed here from the stored
table (the product's own figures must match them)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

CUT = "2024-01-01"  # the history ends in December 2023; 12 months are appended
SEASON = 12


def rows_of(data_dir, query: str, *args) -> list[tuple]:
    with sqlite3.connect(data_dir / "app.sqlite") as db:
        return db.execute(query, args).fetchall()


def expected_accuracy(data_dir, run_id: int, monthly: pd.DataFrame) -> dict:
    """The figures from the stored forecast table and the appended file, computed here."""
    columns = ["unique_id", "ds", "yhat", "lo80", "hi80", "lo95", "hi95"]
    query = f"select {', '.join(columns)} from forecasts where run_id = ?"
    stored = pd.DataFrame(rows_of(data_dir, query, run_id), columns=columns)
    stored["ds"] = pd.to_datetime(stored["ds"])
    frame = monthly.assign(
        unique_id="store=" + monthly["store"] + "/item=" + monthly["item"],
        ds=pd.to_datetime(monthly["month"]),
    )
    new = frame.loc[frame["ds"] >= CUT, ["unique_id", "ds", "units"]]
    scored = stored.merge(new, on=["unique_id", "ds"])
    mase, rmsse = [], []
    for uid, part in scored.groupby("unique_id"):
        past = frame.loc[(frame["unique_id"] == uid) & (frame["ds"] < CUT), "units"].to_numpy()
        err = part["units"].to_numpy() - part["yhat"].to_numpy()
        mase.append(np.mean(np.abs(err)) / np.mean(np.abs(past[SEASON:] - past[:-SEASON])))
        rmsse.append(np.sqrt(np.mean(err**2) / np.mean(np.diff(past) ** 2)))
    err = scored["units"] - scored["yhat"]
    return {
        "periods": scored["ds"].nunique(),
        "points": len(scored),
        "mase": float(np.mean(mase)),
        "rmsse": float(np.mean(rmsse)),
        "wape": float(err.abs().sum() / scored["units"].abs().sum()),
        "bias": float(-err.sum() / scored["units"].abs().sum()),
        "coverage80": float(scored["units"].between(scored["lo80"], scored["hi80"]).mean()),
        "coverage95": float(scored["units"].between(scored["lo95"], scored["hi95"]).mean()),
    }
