"""Each page's callbacks, kept apart from its layout (``dashapp.pages``) as Merlion's
dashboard keeps them: a page says what is shown, its callbacks what changes it.
``create_app`` imports this package, which registers them all."""

from dashapp.callbacks import data, forecast, models, overview, retraining

__all__ = ["data", "forecast", "models", "overview", "retraining"]
