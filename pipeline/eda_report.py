"""Write a data set version's EDA report: ``report.json`` plus Plotly figures as JSON.

Saved under ``DATA_DIR/reports/eda/<dataset_version>/`` so the web app shows
them with ``plotly.io.from_json`` and never recomputes. Figures carry their
own headings that say what they show.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from forecasting.data.cleaning import flag_outliers
from forecasting.data.eda import EdaReport, SeriesProfile
from pipeline import json_output


def report_dir(reports_dir: Path, dataset_id: int) -> Path:
    return Path(reports_dir) / "eda" / str(int(dataset_id))


def write_report(report: EdaReport, target: Path, quantity: str = "sales") -> Path:
    """Write atomically: a reader sees the previous report or the complete new one.

    ``quantity`` (the target column's name) titles the value axes.
    """
    target.mkdir(parents=True, exist_ok=True)
    figures = {
        "history": history_figure(report, quantity),
        "decomposition": decomposition_figure(report.aggregate, "Total", quantity),
        "acf": acf_figure(report.aggregate),
        "profiles": profile_figure(report.aggregate, quantity),
        "top_series": top_series_figure(report, quantity),
    }
    if report.drivers:
        read = report.overview.get("correlation_rows")
        figures["drivers"] = drivers_figure(report.drivers, quantity, read, report.overview["rows"])
    for name, fig in figures.items():
        _write_atomic(target / f"{name}.json", fig.to_json())
    payload = report_json(report)
    payload["figures"] = sorted(figures)
    _write_atomic(target / "report.json", json_output.dumps(payload, indent=1, default=str))
    return target


def report_json(report: EdaReport) -> dict:
    def prof(p: SeriesProfile) -> dict:
        return {"stats": p.stats, "acf": p.acf, "profiles": p.profiles}

    return {
        "overview": report.overview,
        "aggregate": prof(report.aggregate),
        "top_series": {uid: prof(p) for uid, p in report.top.items()},
        "series": report.series_table.round(4).to_dict("records"),
        "drivers": report.drivers,
        "outliers": [
            {"unique_id": r.unique_id, "ds": r.ds.date().isoformat(), "y": float(r.y)}
            for r in report.outliers.itertuples()
        ],
    }


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_suffix(path.suffix + ".tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def history_figure(report: EdaReport, quantity: str = "sales") -> go.Figure:
    """The total over time, its own outliers marked as the History chart marks them (a
    stranger read 25 weeks marked here, where some series had one, and 2 there)."""
    d = report.aggregate.decomposition
    fig = go.Figure(go.Scatter(x=d["ds"], y=d["y"], name=f"total {quantity}", mode="lines"))
    season = int(report.overview.get("season_length") or 1)
    total = d[["ds", "y"]].dropna().assign(unique_id="total")
    marks = flag_outliers(total, season) if len(total) else total
    if len(marks):
        fig.add_trace(
            go.Scatter(
                x=marks["ds"],
                y=marks["y"],
                mode="markers",
                name="outlier of the total",
                marker={"color": "#d62728", "size": 8, "symbol": "x"},
            )
        )
    fig.update_layout(
        title=f"Total {quantity} over time (its own outliers marked)",
        height=440,
        xaxis_title="date",
        yaxis_title=f"total {quantity}",
    )
    return fig


def decomposition_figure(p: SeriesProfile, label: str, quantity: str = "sales") -> go.Figure:
    d = p.decomposition
    parts = ["y", "trend", "seasonal", "resid"]
    titles = ["observed", "trend", "seasonal", "remainder"]
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, subplot_titles=titles)
    for i, col in enumerate(parts, start=1):
        fig.add_trace(go.Scatter(x=d["ds"], y=d[col], mode="lines", name=col), row=i, col=1)
    strength = p.stats.get("seasonal_strength")
    if strength is not None:
        trend = p.stats["trend_strength"]
        note = f" (trend strength {trend:.2f}, seasonal strength {strength:.2f})"
    elif p.stats.get("seasonal_note"):
        note = f" (trend strength {p.stats['trend_strength']:.2f}; {p.stats['seasonal_note']})"
    elif p.stats["std"] == 0:
        note = " (not drawn: the series never changes)"
    else:
        note = " (not drawn: STL needs two full seasons of history)"
    fig.update_layout(title=f"{label}: STL decomposition{note}", height=880, showlegend=False)
    fig.update_yaxes(title_text=quantity)
    fig.update_xaxes(title_text="date", row=4, col=1)
    return fig


def acf_figure(p: SeriesProfile) -> go.Figure:
    n = len(p.decomposition)
    band = 1.96 / max(n, 1) ** 0.5
    fig = go.Figure(go.Bar(x=list(range(len(p.acf))), y=p.acf, name="autocorrelation"))
    fig.add_hline(y=band, line_dash="dot")
    fig.add_hline(y=-band, line_dash="dot")
    fig.update_layout(
        title="Autocorrelation of the total by lag (dotted: 95% band for no correlation)",
        xaxis_title="lag (periods)",
        yaxis_title="autocorrelation (-1 to 1)",
        height=380,
    )
    return fig


def profile_figure(p: SeriesProfile, quantity: str = "sales") -> go.Figure:
    """One panel per calendar profile, stacked so each keeps its width on a phone."""
    kinds = list(p.profiles)
    rows = max(len(kinds), 1)
    fig = make_subplots(rows=rows, cols=1, subplot_titles=kinds or ["none"], vertical_spacing=0.2)
    for i, kind in enumerate(kinds, start=1):
        values = p.profiles[kind]
        fig.add_trace(go.Bar(x=list(values), y=list(values.values()), name=kind), row=i, col=1)
    title = " and by ".join(kinds) or "calendar period"
    fig.update_layout(
        title=f"Average total {quantity} by {title}", height=60 + 340 * rows, showlegend=False
    )
    fig.update_yaxes(title_text=f"average {quantity}")
    return fig


def top_series_figure(report: EdaReport, quantity: str = "sales") -> go.Figure:
    fig = go.Figure()
    for uid, p in report.top.items():
        d = p.decomposition
        fig.add_trace(go.Scatter(x=d["ds"], y=d["y"], mode="lines", name=uid))
    fig.update_layout(
        title=f"The largest series by total {quantity}",
        height=480,
        xaxis_title="date",
        yaxis_title=quantity,
    )
    return fig


def drivers_figure(
    drivers: dict, quantity: str = "sales", read: int | None = None, rows: int | None = None
) -> go.Figure:
    """Each driver's correlations; the title says when they were ``read`` from fewer than
    all ``rows`` (a catalogue's, evenly thinned: ``forecasting.data.eda``)."""
    frame = pd.DataFrame(drivers).T
    sampled = (
        f" (from {read:,} of {rows:,} rows, evenly spread)" if read and rows and read < rows else ""
    )
    bars = [
        go.Bar(x=frame.index, y=frame["pearson"], name="Pearson, all rows"),
        go.Bar(x=frame.index, y=frame["spearman"], name="Spearman (rank), all rows"),
    ]
    within = frame.get("within_series")
    if within is not None and within.notna().any():  # a report from before had none
        bars.append(go.Bar(x=frame.index, y=within, name="Pearson within a series (median)"))
    fig = go.Figure(bars)
    fig.update_layout(
        title=(
            f"Correlation of each driver with {quantity} (-1 to 1){sampled}"
            + (
                "<br><sub>within a series: the median series' own correlation, a price's "
                "own effect; all rows mix dear and cheap items</sub>"
                if len(bars) > 2
                else ""
            )
        ),
        height=400,
        barmode="group",
        xaxis_title="driver",
        yaxis_title=f"correlation with {quantity}",
    )
    return fig
