"""Each page's callbacks, kept apart from its layout (``dashapp.pages``) as Merlion's
dashboard keeps them: a page says what is shown, its callbacks what changes it.
``register`` gives an app every one of them (``registry``: per app, not Dash's global
list)."""

from dash import Dash

from dashapp.callbacks import data, forecast, models, overview, registry, retraining

PAGES = (data, forecast, models, overview, retraining)


def register(app: Dash) -> None:
    """Every page's callbacks and the shell's, for ``app``."""
    registry.register(app)
