"""gunicorn entry point: ``gunicorn -c python:dashapp.gunicorn_conf dashapp.wsgi:server``."""

from dashapp import create_app

app = create_app()
server = app.server
