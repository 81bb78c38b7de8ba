"""Plotly figures the pages share: history with forecast bands, model comparison, backtests."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

BAND_80 = "rgba(31, 119, 180, 0.30)"
BAND_95 = "rgba(31, 119, 180, 0.15)"


def empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14})
    fig.update_layout(xaxis_visible=False, yaxis_visible=False, height=300)
    return fig


def history_with_forecast(
    history: pd.DataFrame | None, forecast: pd.DataFrame | None, title: str, tail: int = 365
) -> go.Figure:
    """Actual sales, the forecast, and its 80% and 95% bands; outliers marked."""
    fig = go.Figure()
    if history is not None and len(history):
        hist = history.tail(tail)
        fig.add_trace(
            go.Scatter(
                x=hist["ds"],
                y=hist["y"],
                name="actual",
                mode="lines",
                line={"color": "#333", "width": 1.2},
            )
        )
        marks = hist.loc[hist.get("outliers", pd.Series(0, index=hist.index)) > 0]
        if len(marks):
            fig.add_trace(
                go.Scatter(
                    x=marks["ds"],
                    y=marks["y"],
                    mode="markers",
                    name="outlier",
                    marker={"color": "#d62728", "size": 7},
                )
            )
    if forecast is not None and len(forecast):
        for level, color in ((95, BAND_95), (80, BAND_80)):
            fig.add_trace(
                go.Scatter(
                    x=pd.concat([forecast["ds"], forecast["ds"][::-1]]),
                    y=pd.concat([forecast[f"hi{level}"], forecast[f"lo{level}"][::-1]]),
                    fill="toself",
                    fillcolor=color,
                    line={"width": 0},
                    hoverinfo="skip",
                    name=f"{level}% interval",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=forecast["ds"],
                y=forecast["yhat"],
                name="forecast",
                mode="lines",
                line={"color": "#1f77b4", "width": 2},
            )
        )
    fig.update_layout(
        title=title,
        height=420,
        margin={"l": 40, "r": 10, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
    )
    return fig


def model_comparison(models: list[dict], metric: str = "mase") -> go.Figure:
    """Held-out error of each model; the baseline and the served ones highlighted."""
    rows = [m for m in models if metric in (m.get("test") or {})]
    rows.sort(key=lambda m: m["test"][metric])
    colors = [
        "#2ca02c" if m["selected"] else "#7f7f7f" if m["model"] == "seasonal_naive" else "#1f77b4"
        for m in rows
    ]
    fig = go.Figure(
        go.Bar(
            x=[m["test"][metric] for m in rows],
            y=[m["model"] for m in rows],
            orientation="h",
            marker_color=colors,
            text=[f"{m['test'][metric]:.3f}" for m in rows],
            textposition="auto",
        )
    )
    fig.update_layout(
        title=f"Held-out {metric.upper()} by model (lower is better; green: served, "
        "grey: seasonal-naive baseline)",
        height=80 + 32 * max(len(rows), 1),
        margin={"l": 110, "r": 10, "t": 50, "b": 30},
        yaxis={"autorange": "reversed"},
    )
    return fig
