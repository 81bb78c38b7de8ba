"""gunicorn's entry point from a checkout, as every Dash deployment guide has it:
``gunicorn wsgi:server`` (the installed package's own is ``dashapp.wsgi:server``)."""

from dashapp.wsgi import app, server

__all__ = ["app", "server"]
