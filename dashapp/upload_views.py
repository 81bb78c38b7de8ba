"""The upload page's report on a file it has read: what was detected, cleaned and left
out, and the reading choices the planner can change before anything is stored."""

from __future__ import annotations

import functools
import re

import dash_bootstrap_components as dbc
import holidays
from dash import html

from forecasting.data.gaps import GAP_POLICIES
from forecasting.data.reading_options import NO_CALENDAR
from pipeline.formatting import counted

#: said after the country when the planner chose none (a German export read US holidays)
DEFAULT_CALENDAR = (
    ", this deployment's default (HOLIDAY_COUNTRY): if the sales are from elsewhere, "
    "choose their country under Holidays of below and read the file again"
)


def _kept_calendar(version: int | None) -> str:
    return (
        f", as data set version {version} was read: if this file is from elsewhere, choose "
        "its country under Holidays of below and read the file again"
        if version
        else ""
    )


def report_card(report: dict, notes: list[str], filename: str) -> dbc.Card:
    mapping = report["detected"]["mapping"]
    r = report["cleaning"]
    outcomes = report.get("outcomes") or {}
    possible = ", ".join(
        f"{d} (an outcome of the sales)" if d in outcomes else d for d in mapping["drivers"]
    )
    # an append's figures are the new version's, history and new actuals together
    whole = "With the stored history: " if report.get("append") else ""
    items = [
        f"Date column: {mapping['date']}; sales column: {mapping['target']}; series ids: "
        f"{', '.join(mapping['ids']) or 'none (one series)'}.",
        f"Possible drivers: {possible or 'none'}; attributes: "
        f"{', '.join(mapping['attributes']) or 'none'}.",
        f"{whole}{r['series']} series, {r['rows_out']:,} rows, {r['freq_name']}, {r['start']} "
        f"to {r['end']}; holidays of {report.get('country') or 'no country'}"
        + (DEFAULT_CALENDAR if report.get("country_default") else "")
        + _kept_calendar(report.get("country_from_version"))
        + ".",
        f"Cleaning{' of the whole history' if whole else ''}: "
        f"{counted(r['exact_duplicates_dropped'], 'duplicate row')} dropped, "
        f"{counted(r['duplicate_periods_summed'], 'same-period row')} summed, "
        f"{counted(r.get('values_filled', r['gaps_filled']), 'period')} without a value "
        f"filled ({r['gap_policy']}), "
        f"{counted(r['leading_zeros_trimmed'], 'leading zero')} trimmed, "
        f"{counted(r['outliers_flagged'], 'outlier')} flagged.",
    ]
    cells = report["detected"].get("unreadable_sales_cells", 0)
    if cells:
        items.append(f"{cells} sales cells are not numbers and were read as blank.")
    items += [note[0].upper() + note[1:].rstrip(".") + "." for note in notes[1:]]
    if r["dropped_series"]:
        items.append(
            f"Left out ({len(r['dropped_series'])}): "
            + "; ".join(f"{k}: {v}" for k, v in list(r["dropped_series"].items())[:5])
        )
    body = [
        html.H5(
            f"New actuals for data set version {report['append']['appended_to']}: {filename}"
            if report.get("append")
            else f"Validation report: {filename}"
        ),
        html.Ul([html.Li(i) for i in items]),
    ]
    replaces = report.get("replaces")
    if replaces:  # said before anything is stored: Start would drop that history
        note = replaces["note"]
        body.append(
            dbc.Alert(note[0].upper() + note[1:] + ".", color="warning", id="retraining-replaces")
        )
    if not report.get("append"):  # an append is read as the stored version was
        body.append(reading_choices(mapping, report))
    body.append(
        html.P(
            "Starting a run with this file stores it as a new data set version; nothing "
            "is kept before that.",
            className="small mb-0",
        )
    )
    return dbc.Card(dbc.CardBody(body), color="success", outline=True, id="retraining-accepted")


def reading_choices(mapping: dict, report: dict) -> html.Div:
    """The detected date, sales and series columns, the rule for missing periods and the
    holiday calendar as choices the planner can change (a stranger's lost records were
    read as days without a sale, and a German shop got US holidays, with no control on
    the page), and a question when the sales column was only guessed."""
    columns = mapping.get("columns") or [mapping["date"], mapping["target"], *mapping["ids"]]
    drivers = mapping["drivers"]
    numeric = [c for c in columns if c in {mapping["target"], *drivers}]
    # a price or a revenue is not a series key (a stranger was offered them as ticks)
    others = [c for c in columns if c not in (mapping["date"], mapping["target"], *drivers)]
    ask = []
    if mapping.get("target_candidates"):
        ask.append(
            dbc.Alert(
                f"Which column is the sales? No column is named like sales, so "
                f"{mapping['target']!r} was guessed; "
                f"{', '.join(repr(c) for c in mapping['target_candidates'])} could be it too. "
                "Choose the sales column below and read the file again: Start waits for it.",
                color="warning",
                id="retraining-which-target",
                className="mb-2",
            )
        )
    return html.Div(
        [
            html.H6("How the file is read", className="mt-2"),
            *ask,
            dbc.Row(
                [
                    _choice("Date column", "retraining-read-date", columns, mapping["date"]),
                    _choice("Sales column", "retraining-read-target", numeric, mapping["target"]),
                    _choice("Series columns", "retraining-read-ids", others, mapping["ids"], True),
                ],
                className="g-2",
            ),
            dbc.Row(
                [
                    _choice(
                        "Missing periods",
                        "retraining-read-gaps",
                        list(GAP_POLICIES),
                        report["cleaning"]["gap_policy"],
                        labels=GAP_LABELS,
                    ),
                    _choice(
                        "Holidays of",
                        "retraining-read-country",
                        _countries(report.get("country")),
                        report.get("country") or NO_CALENDAR,
                        labels=country_names(),
                    ),
                ],
                className="g-2 mt-1",
            ),
            dbc.Button(
                "Read again with these choices",
                id="retraining-reread",
                size="sm",
                color="secondary",
                className="mt-2 mb-2",
            ),
        ],
        id="retraining-reading",
    )


#: the rules for missing periods, in the words of the cleaning report
GAP_LABELS = {
    "auto": "auto: lost records interpolated, the rest zero (see the report)",
    "zero": "zero: every missing period sold nothing",
    "interpolate": "interpolate: every missing period a lost record",
    "ffill": "ffill: a missing period repeats the one before",
}


@functools.cache
def country_names() -> dict[str, str]:
    """Each calendar's ISO code with its country's name ("DE: Germany"): a stranger met
    some 250 bare codes, and GB, GBR and UK side by side."""
    from holidays.registry import COUNTRIES

    names = {}
    for class_name, code, *_ in COUNTRIES.values():
        names[code] = f"{code}: {re.sub(r'(?<=[a-z])(?=[A-Z])', ' ', class_name)}"
    return names


def _countries(current: str | None) -> list[str]:
    """No calendar, then one code per country (no aliases); the file's own code kept
    even when it is an alias."""
    codes = sorted(holidays.list_supported_countries(include_aliases=False))
    extra = [current] if current and current not in codes and current != NO_CALENDAR else []
    return [NO_CALENDAR, *extra, *codes]


def _choice(
    label: str,
    id_: str,
    options: list[str],
    value,
    multi: bool = False,
    labels: dict[str, str] | None = None,
) -> dbc.Col:
    """One of ``options`` to choose (a native select), or several (checkboxes)."""
    named = [{"label": (labels or {}).get(o, o), "value": o} for o in options]
    control = (
        dbc.Checklist(id=id_, options=options, value=list(value or []), inline=True)
        if multi
        else dbc.Select(id=id_, options=named, value=value)
    )
    return dbc.Col([dbc.Label(label, html_for=id_, className="small mb-0"), control], md=4)
