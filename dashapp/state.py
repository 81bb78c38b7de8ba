"""What the app holds per process: settings, the opened system, the read side's cache and
the cache of finished read responses."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from dashapp.response_cache import ResponseCache
from pipeline.serving import ServingCache
from pipeline.system import System
from storage.settings import Settings

EXTENSION = "salesforecast"
#: the settings of the app in this process, for background jobs (they run without a request)
_background_settings: Settings | None = None


@dataclass
class AppState:
    settings: Settings
    system: System
    #: the read side: what serves, cached per process (``pipeline.serving``)
    reads: ServingCache
    responses: ResponseCache = field(default_factory=ResponseCache)


def app_state() -> AppState:
    return current_app.extensions[EXTENSION]


def set_background_settings(settings: Settings) -> None:
    global _background_settings
    _background_settings = settings


def background_settings() -> Settings:
    if _background_settings is None:
        raise RuntimeError("create_app() has not run in this process")
    return _background_settings
