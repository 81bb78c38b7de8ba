"""The frame around every page: a navigation bar that collapses on a phone, and the page."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.callbacks.registry import callback


def shell(registry) -> html.Div:
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
        for page in sorted(registry.values(), key=lambda p: p.get("order", 99))
    ]
    navbar = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Sales forecasting", href="/"),
                dbc.NavbarToggler(id="shell-toggler"),
                dbc.Collapse(dbc.Nav(links, navbar=True), id="shell-collapse", navbar=True),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )
    return html.Div(
        [
            dcc.Location(id="shell-url"),
            navbar,
            dbc.Container(dash.page_container, fluid=True, className="pb-5"),
        ]
    )


@callback(
    dash.Output("shell-collapse", "is_open"),
    dash.Input("shell-toggler", "n_clicks"),
    dash.State("shell-collapse", "is_open"),
    prevent_initial_call=True,
)
def toggle_menu(_clicks, is_open):
    return not is_open
