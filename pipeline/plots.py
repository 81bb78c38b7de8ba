"""Static PNG figures for MLflow (matplotlib, Agg): viewable in the MLflow UI with no CDN."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

HISTORY_PERIODS = 120


def forecast_plot(
    history: pd.DataFrame, actuals: pd.DataFrame, column: str, title: str
) -> plt.Figure:
    """Aggregate history, the held-out actuals and one model's forecast of them."""
    hist = history.groupby("ds")["y"].sum().tail(HISTORY_PERIODS)
    test = actuals.groupby("ds")[["y", column]].sum()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(hist.index, hist.to_numpy(), color="#555", lw=1, label="history")
    ax.plot(test.index, test["y"].to_numpy(), color="black", lw=1.5, label="held-out actual")
    ax.plot(test.index, test[column].to_numpy(), color="#d62728", lw=1.5, label=column)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def heldout_totals(actuals: pd.DataFrame, column: str) -> dict[str, list]:
    """The held-out actuals and one model's forecast of them, summed over the series: what
    its figure shows, as data (a figure a model cost a quarter of a second to draw)."""
    test = actuals.groupby("ds")[["y", column]].sum()
    return {
        "ds": [d.date().isoformat() for d in pd.to_datetime(test.index)],
        "actual": [round(float(v), 6) for v in test["y"]],
        "forecast": [round(float(v), 6) for v in test[column]],
    }


def importance_plot(importance: pd.Series, title: str) -> plt.Figure:
    top = importance.sort_values().tail(20)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(top) + 1))
    ax.barh(top.index, top.to_numpy(), color="#1f77b4")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def close(fig: plt.Figure) -> None:
    plt.close(fig)
