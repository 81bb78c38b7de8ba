"""Plotly figures the pages share: history with forecast bands, model comparison, backtests.

Every figure goes through ``responsive`` before a page shows it, so that on a
375 px phone the plot keeps its height and width: the title is an HTML heading
above the chart (it wraps; a Plotly title does not), the legend sits below the
plot, the axes make room for their labels and say what they measure, and a
horizontal bar's name is written inside the plot above its bar.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pipeline.formatting import is_diverged, label

BAND_80 = "rgba(31, 119, 180, 0.30)"
BAND_95 = "rgba(31, 119, 180, 0.15)"
DATE_AXIS = "date"
#: plot height plus room for ticks, axis titles and a legend of a few rows below
HEIGHT = 460


def responsive(
    fig: go.Figure,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Phone-friendly layout (see the module docstring); titles given here name the axes."""
    subplot_titles = any(a.yref == "paper" and a.y is not None for a in fig.layout.annotations)
    fig.update_layout(
        title_text="",
        height=height or fig.layout.height or HEIGHT,
        margin={"l": 10, "r": 10, "t": 30 if subplot_titles else 10, "b": 10},
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 0,
            "yanchor": "bottom",
            "yref": "container",
        },
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if any(getattr(t, "orientation", None) == "h" for t in fig.data):
        # a bar's name sits inside the plot, above its bar: beside it, long names (an
        # ensemble, a feature) took the plot under 250 px wide on a 375 px phone
        fig.update_yaxes(ticklabelposition="inside top", ticks="", automargin=False)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def take_title(fig: go.Figure) -> str:
    """The figure's title text, removed from the figure (the page shows it as a heading)."""
    title = fig.layout.title.text or ""
    fig.update_layout(title_text="")
    return title


def empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14})
    fig.update_layout(xaxis_visible=False, yaxis_visible=False, height=300)
    return fig


#: a history this short is drawn with a marker on each period
FEW_POINTS = 30


def history_with_forecast(
    history: pd.DataFrame | None,
    forecast: pd.DataFrame | None,
    quantity: str,
    tail: int = 365,
) -> go.Figure:
    """Actual sales, the forecast, and its 80% and 95% bands; outliers and the periods
    the gap rule filled marked.

    ``quantity`` names the y axis (the target column of the data set).
    """
    fig = go.Figure()
    if history is not None and len(history):
        hist = history.tail(tail)
        fig.add_trace(
            go.Scatter(
                x=hist["ds"],
                y=hist["y"],
                name="actual",
                # a launch's one or two weeks are invisible as a line alone
                mode="lines+markers" if len(hist) <= FEW_POINTS else "lines",
                marker={"size": 5},
                line={"color": "#333", "width": 1.2},
            )
        )
        marks = hist.loc[hist.get("outliers", pd.Series(0, index=hist.index)) > 0]
        mark_points(fig, marks["ds"], marks["y"], "outlier", {"color": "#d62728", "size": 7})
        made_up = hist.loc[hist.get("filled", pd.Series(0, index=hist.index)) > 0]
        mark_points(
            fig, made_up["ds"], made_up["y"], "filled (no value in the file)",
            {"color": "#7f7f7f", "size": 7, "symbol": "circle-open"},
        )  # fmt: skip
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
        _mark_extrapolated(fig, forecast)
        _mark_planned(fig, forecast)
    fig.update_layout(hovermode="x unified")
    return responsive(fig, DATE_AXIS, quantity)


def _mark_planned(fig: go.Figure, forecast: pd.DataFrame) -> None:
    """Mark the periods the drivers' plan reached (for every series forecast)."""
    if "planned" not in forecast:
        return
    planned = forecast.loc[forecast["planned"].astype(float) >= 1.0]
    marker = {"color": "#ff7f0e", "size": 8, "symbol": "diamond"}
    mark_points(fig, planned["ds"], planned["yhat"], "planned prices and promotions", marker)


def mark_points(fig: go.Figure, x, y, name: str, marker: dict, **extra) -> None:
    """Points marked on a line (outliers, planned periods); nothing when there are none."""
    if len(x):
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=name, marker=marker, **extra))


def _mark_extrapolated(fig: go.Figure, forecast: pd.DataFrame) -> None:
    """Shade the periods past the validated horizon: their bands are extrapolated."""
    if "extrapolated" not in forecast or not forecast["extrapolated"].any():
        return
    beyond = forecast.loc[forecast["extrapolated"].astype(bool), "ds"]
    fig.add_vrect(
        x0=beyond.min(),
        x1=beyond.max(),
        fillcolor="#999",
        opacity=0.12,
        line_width=0,
        annotation_text="bands extrapolated",
        annotation_position="top left",
        annotation_font_size=11,
    )


def comparison_title(metric: str = "mase") -> str:
    return (
        f"Held-out {metric.upper()} by model over all series (lower is better; green: "
        "served for some or all series, grey: the seasonal-naive baseline when it serves "
        "none)"
    )


def model_comparison(models: list[dict], metric: str = "mase") -> go.Figure:
    """Held-out error of each model; the baseline and the served ones highlighted.

    A model whose score diverged gets no bar (it would flatten every other one) but
    keeps its row, labelled "diverged".
    """
    rows = [m for m in models if metric in (m.get("test") or {})]
    rows.sort(key=lambda m: (is_diverged(m["test"][metric]), m["test"][metric]))
    colors = [
        "#2ca02c" if m["selected"] else "#7f7f7f" if m["model"] == "seasonal_naive" else "#1f77b4"
        for m in rows
    ]
    fig = go.Figure(
        go.Bar(
            x=[None if is_diverged(m["test"][metric]) else m["test"][metric] for m in rows],
            y=[m["model"] for m in rows],
            orientation="h",
            marker_color=colors,
            text=[label(m["test"][metric]) for m in rows],
            textposition="auto",
            cliponaxis=False,
        )
    )
    fig.update_layout(yaxis={"autorange": "reversed"}, showlegend=False)
    for m in rows:
        if is_diverged(m["test"][metric]):
            fig.add_annotation(x=0, y=m["model"], text="diverged", showarrow=False, xanchor="left")
    return responsive(
        fig,
        f"held-out {metric.upper()} (lower is better)",
        None,
        height=max(360, 100 + 32 * len(rows)),
    )
