"""gunicorn entry point: ``gunicorn -k gthread wsgi:server``."""

from dashapp import create_app

app = create_app()
server = app.server
