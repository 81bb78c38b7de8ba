"""The Dash application: ``create_app(config=None)`` builds it on a Flask server.

``config`` overrides settings for tests (``DATA_DIR``, ``DATABASE_URL``, ...);
otherwise everything comes from the environment (``storage/settings.py``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dash
import diskcache
import PIL.Image  # noqa: F401  see below
from dash import CeleryManager, Dash, DiskcacheManager
from flask import jsonify

from dashapp import callbacks
from dashapp.api import ApiFlask, init_api
from dashapp.auth import init_auth
from dashapp.headers import install_csp
from dashapp.layout import shell
from dashapp.state import EXTENSION, AppState, set_background_settings
from dashapp.websocket import init_websocket
from pipeline.serving import ServingCache
from pipeline.system import open_system
from pipeline.workers import QueueUnavailable, check_reachable
from storage.run_reads import production_run_id
from storage.settings import Settings, load_settings

# Plotly's JSON encoder looks PIL.Image up in sys.modules without importing it. A page's
# first Optuna chart imports matplotlib, and so PIL, in one request thread; a figure
# encoded meanwhile in another thread met the half-made module and answered 500.
# Imported here, before any thread, it is whole whenever the encoder looks.

#: the package folder: its CSS and scripts are package data, shipped by any install
PACKAGE = Path(__file__).resolve().parent
DEV_SECRET = "dev-only-secret-change-me"


def settings_from(config: dict | None) -> Settings:
    settings = load_settings()
    if not config:
        return settings
    overrides = {
        "data_dir": Path(config["DATA_DIR"]) if "DATA_DIR" in config else None,
        "database_url": config.get("DATABASE_URL"),
        "mlflow_tracking_uri": config.get("MLFLOW_TRACKING_URI"),
        "optuna_storage": config.get("OPTUNA_STORAGE"),
        "cache_dir": Path(config["CACHE_DIR"]) if "CACHE_DIR" in config else None,
        "secret_key": config.get("SECRET_KEY"),
        "app_env": config.get("APP_ENV"),
        "admin_token": config.get("ADMIN_TOKEN"),
    }
    return dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def secret_key(settings: Settings) -> str:
    """The session key; in production a missing or development key stops the start."""
    if settings.app_env == "production" and settings.secret_key in (None, DEV_SECRET):
        raise RuntimeError(
            "APP_ENV=production needs SECRET_KEY: set it to a long random string, e.g. "
            'python3 -c "import secrets; print(secrets.token_hex(32))"'
        )
    return settings.secret_key or DEV_SECRET


def background_manager(settings: Settings) -> DiskcacheManager | CeleryManager:
    """Where the pages' background jobs run: processes beside the web worker on one
    machine (diskcache); with ``REDIS_URL`` Celery tasks, served by ``python -m dashapp
    worker`` (Dash's documented production manager)."""
    if settings.redis_url:
        from pipeline.workers import celery_app

        return CeleryManager(celery_app(settings.redis_url))
    cache_dir = settings.resolved_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    return DiskcacheManager(diskcache.Cache(str(cache_dir)))


def create_app(config: dict | None = None) -> Dash:
    settings = settings_from(config)
    key = secret_key(settings)
    system = open_system(settings)
    state = AppState(settings, system, ServingCache(system))
    set_background_settings(settings)

    server = ApiFlask(__name__)
    server.config.update(
        SECRET_KEY=key,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    server.config.update({k: v for k, v in (config or {}).items() if k.isupper()})
    server.extensions[EXTENSION] = state
    init_auth(server)
    init_api(server)
    init_websocket(server)

    @server.get("/health")
    def health():
        """503 without the database; with ``REDIS_URL``, reads go on while the run queue is
        away (200, "degraded", ``queue`` false) but no run can start."""
        ok = system.db.ping()
        queue = None
        if settings.redis_url:
            try:
                check_reachable(settings)
                queue = True
            except QueueUnavailable:
                queue = False
        return jsonify(
            status="ok" if ok and queue is not False else "degraded",
            database=ok,
            queue=queue,
            production_run_id=production_run_id(system.db) if ok else None,
        ), (200 if ok else 503)

    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(Path(__file__).with_name("pages")),
        assets_folder=str(PACKAGE / "assets"),
        background_callback_manager=background_manager(settings),
        suppress_callback_exceptions=True,
        title="Sales forecasting",
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    callbacks.register(app)  # each page's callbacks and the shell's, for this app
    app.layout = shell(dash.page_registry)
    install_csp(app)
    # Dash registers its script bundles on the first request, after marking that done:
    # under gthread, bundle requests that arrive meanwhile get a 500 and the first page
    # after a start stays blank (plotly/dash#3971). Register them before any request.
    with server.test_request_context("/"):
        app._setup_server()
    return app
