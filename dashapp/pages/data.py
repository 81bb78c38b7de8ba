"""Data: the history table, what cleaning did, the EDA report, anomalies and per-series accuracy.

The page's layout; what changes it is ``dashapp.callbacks.data``.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import plotly.io as pio
from dash import dash_table, html

from dashapp import components as ui
from dashapp import figures
from dashapp.state import app_state
from forecasting.errors import DataError
from pipeline.serving import queries, reports

dash.register_page(__name__, path="/data", name="Data", order=2, title="Data")

IMPORTANCE_TITLE = "Which inputs the tree models rely on (share of importance)"
EDA_FIGURES = ["history", "decomposition", "profiles", "acf", "top_series", "drivers"]
CLEANING_LABELS = {
    "rows_in": "rows read",
    "rows_out": "rows after cleaning",
    "exact_duplicates_dropped": "exact duplicate rows dropped",
    "duplicate_periods_summed": "rows for the same period summed",
    "gaps_filled": "periods with no row in the file, added",
    "values_filled": "periods without a value in the file, filled",
    "gaps_as_missing": "missing periods read as lost records (interpolated)",
    "gaps_as_zero": "missing periods read as sales of zero",
    "leading_zeros_trimmed": "zeros before a series' first sale trimmed",
    "negative_values": "negative values (returns) kept",
    "outliers_flagged": "outliers flagged (kept, marked on charts)",
}


def layout(**_):
    reads = app_state().reads
    info = reports.dataset(reads)
    if info is None:
        return html.Div([html.H2("Data"), ui.no_model_notice()])
    cleaning = info["cleaning"]
    dates = (info.get("mapping") or {}).get("dates") or {}
    rows = [
        html.Tr([html.Td(label), html.Td(f"{cleaning.get(key, 0):,}")])
        for key, label in CLEANING_LABELS.items()
    ]
    dropped = cleaning.get("dropped_series") or {}
    return html.Div(
        [
            html.H2("Data"),
            html.P(
                f"Data set version {info['id']}: {info['source_name']}, {info['series']} series, "
                f"{info['rows']:,} rows, {cleaning.get('freq_name', info['freq'])}, "
                f"{info['start']} to {info['end']}.",
                className="text-muted",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H5("What cleaning did"),
                            dbc.Table(html.Tbody(rows), size="sm", bordered=False),
                            html.P(
                                f"Missing periods: {_gap_rule(cleaning)}",
                                id="data-gap-rule",
                                className="small",
                            ),
                            html.P(
                                f"Dates: {dates['reason']}." if dates.get("reason") else "",
                                className="small",
                            ),
                            html.P(
                                (
                                    f"{len(dropped)} series were left out: "
                                    + "; ".join(f"{k} ({v})" for k, v in list(dropped.items())[:5])
                                    + "."
                                    if dropped
                                    else "Every series is forecast (see below how)."
                                ),
                                className="small",
                            ),
                        ],
                        md=5,
                    ),
                    dbc.Col(_eda_summary(reads, info["id"]), md=7),
                ]
            ),
            html.H4("How each series is forecast", className="mt-3"),
            _ladder_section(reads, info["id"]),
            _effects_section(reads, info["id"]),
            html.H4("Exploratory analysis", className="mt-3"),
            html.Div(_eda_figures(reads, info["id"])),
            html.H4("History", className="mt-3"),
            ui.series_selector("data-series", queries.series_options(reads)),
            ui.chart("data-history"),
            dash_table.DataTable(
                id="data-table",
                page_size=20,
                filter_action="native",
                sort_action="native",
                **ui.TABLE_STYLE,
            ),
            html.H4("Accuracy per model and per series", className="mt-4"),
            html.Div(id="data-accuracy"),
            html.H4("Feature importance of the tree models", className="mt-4"),
            ui.chart("data-importance", title=IMPORTANCE_TITLE),
        ]
    )


LADDER_COLUMNS = {
    "unique_id": "series",
    "ladder_note": "ladder step",
    "demand_class": "demand class",
    "periods": "periods",
    "zero_share": "zero share",
    "adi": "ADI",
    "cv2": "CV²",
    "served_by": "served by",
    "served_with_a_plan": "served with a plan",
    "served_past_the_plan": "served past the plan",
    "diverged": "diverged (replaced)",
}


def _ladder_section(reads, dataset_id: int):
    """Every series' ladder step and demand class, from the serving run or the EDA report."""
    try:
        table, source = queries.series_ladder(reads, dataset_id)
    except DataError as exc:
        return ui.error_notice(str(exc))
    steps = table["ladder_step"].value_counts().to_dict()
    classes = table["demand_class"].value_counts().to_dict()
    columns = [c for c in LADDER_COLUMNS if c in table.columns]
    return html.Div(
        [
            html.P(
                "Every series gets a forecast. By history: never sold -> zero; fewer than 4 "
                "periods -> its mean level with wide bands; too short for a validation fold -> "
                "the models that fit short histories, chosen on longer series of the same demand "
                "class; otherwise every model, validated; no record in the file's last periods "
                "(a delisted item) -> ended, zero from the file's end. Demand classes "
                "(Syntetos-Boylan): ADI "
                "is the mean number of periods between sales, CV² the variability of sale sizes.",
                className="small",
            ),
            html.P(
                f"Ladder: {', '.join(f'{v} {k}' for k, v in steps.items())}. Demand: "
                f"{', '.join(f'{v} {k}' for k, v in classes.items())}. Source: {source}.",
                className="small",
                id="data-ladder-summary",
            ),
            dash_table.DataTable(
                table[columns].to_dict("records"),
                [{"name": LADDER_COLUMNS[c], "id": c} for c in columns],
                id="data-ladder",
                page_size=10,
                filter_action="native",
                sort_action="native",
                **ui.TABLE_STYLE,
            ),
        ]
    )


EFFECT_COLUMNS = {
    "group": "group",
    "driver": "driver",
    "role": "role",
    "effect": "elasticity (price) or lift (promotion)",
    "series": "series using it",
    "of": "of series",
}


def _effects_section(reads, dataset_id: int):
    """What the served model says each price and promotion does, per group."""
    if not reads.serves() or reads.serving_run().dataset_id != dataset_id:
        return None
    spec = reads.serving_run().serving.spec
    if not any(spec.role(name) != "other" for name in spec.exog):
        return None
    table = reports.driver_effects(reads)
    rows = [r for r in table["groups"] if r["effect"] is not None]
    if not rows:  # an empty table said nothing to a stranger
        named = ", ".join(n for n in spec.exog if spec.role(n) != "other")
        return html.Div(
            [
                html.H5("Prices and promotions"),
                html.P(
                    f"No served forecast uses {named}: validation chose models without "
                    "them for every series, so the forecasts do not move with a price or a "
                    "promotion. On the Forecast page, a model that reads them shows what "
                    "it would do.",
                    id="data-effects-none",
                ),
            ],
            className="mb-4",
        )
    return html.Div(
        [
            html.H5("Prices and promotions"),
            html.P(
                "What the served forecast does when one driver moves and the rest hold "
                "(a price at its last value, no promotion): a price elasticity of -2 means "
                "1% dearer sells about 2% fewer units; a lift of 1.5 means a promotion "
                "sells half as many again. Each group's figure is the median over its "
                "series whose served forecast uses the driver. "
                + (
                    "Between two plans, a dearer price never raises and a promotion never "
                    "lowers a forecast (the models are constrained). A forecast without a "
                    "plan comes from the models chosen for periods without drivers, so "
                    "adding a plan can move it either way."
                    if table["constrained"]
                    else "The models were trained without sign constraints."
                ),
                className="small text-muted",
            ),
            dash_table.DataTable(
                id="data-effects",
                columns=[{"name": v, "id": k} for k, v in EFFECT_COLUMNS.items()],
                data=rows,
                page_size=12,
                sort_action="native",
                **ui.TABLE_STYLE,
            ),
        ],
        className="mb-4",
    )


def _gap_rule(cleaning: dict) -> str:
    """The data set's own sentence; older data sets only stored the policy's name."""
    if cleaning.get("gap_rule"):
        return cleaning["gap_rule"]
    return f"{cleaning.get('gap_policy')}, {cleaning.get('gaps_filled', 0)} filled."


def _eda_summary(reads, dataset_id: int):
    try:
        report = reports.eda(reads, dataset_id)
    except DataError as exc:
        return ui.error_notice(str(exc))
    stats = report["aggregate"]["stats"]

    def fmt(key, source=stats, spec=".2f"):
        value = source.get(key)  # null in the report: not computable (e.g. nothing sold)
        return "n/a" if value is None else format(value, spec)

    overview = report["overview"]

    return html.Div(
        [
            html.H5("Shape of the total"),
            html.Ul(
                [
                    html.Li(
                        f"Trend strength {fmt('trend_strength')} and seasonal strength "
                        f"{fmt('seasonal_strength')} (0 = none, 1 = all of the variation)"
                        + (f"; {stats['seasonal_note']}." if stats.get("seasonal_note") else ".")
                    ),
                    html.Li(
                        f"Stationarity: {stats.get('stationary')} (ADF p = "
                        f"{fmt('adf_pvalue')}, KPSS p = {fmt('kpss_pvalue')})."
                    ),
                    html.Li(
                        # every series' periods, not the total's (which a stranger took
                        # it for: the total never sold nothing)
                        f"Across the series, {fmt('zero_share', overview, '.1%')} of "
                        f"periods sold nothing; outliers flagged: {report['overview']['outliers']}."
                    ),
                    html.Li(
                        f"The {len(report['top_series'])} largest series hold "
                        f"{fmt('top_series_share', overview, '.0%')} of all sales."
                    ),
                ]
            ),
        ]
    )


def _eda_figures(reads, dataset_id: int) -> list:
    out = []
    for name in EDA_FIGURES:
        text = reports.eda_figure(reads, name, dataset_id)
        if text is not None:
            fig = pio.from_json(text)
            title = figures.take_title(fig)
            out.append(
                ui.chart(f"data-eda-{name.replace('_', '-')}", figures.responsive(fig), title)
            )
    return out or [ui.error_notice("No EDA report for this data set yet.")]
