"""Engine and sessions for SQLite (default) or PostgreSQL, migrated to the latest schema.

SQLite runs in WAL mode with a busy timeout so the web app reads while a run
writes; foreign keys are switched on per connection (SQLite's default is off).
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000
#: ids are 64-bit integers in both databases; a larger number names no row
MAX_ID = 2**63 - 1
#: the PostgreSQL advisory lock that one migration at a time holds
LOCK_KEY = 72_770_001


class Database:
    """One engine and its session factory; ``session()`` commits or rolls back."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (idempotent), one process at a
        time: gunicorn's workers on a fresh data directory each migrate as they boot, and
        two at once both created the first table (issue 29). PostgreSQL holds an advisory
        lock for the transaction; SQLite a lock on a file beside the database."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self.engine.begin() as connection:
            if not self.is_sqlite:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        database = self.engine.url.database if self.is_sqlite else None
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ping(self) -> bool:
        """The database answers (what a health probe needs; cheap)."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT 1")).scalar() == 1
        except Exception:
            return False

    def integrity_ok(self) -> bool:
        """SQLite's own integrity check; PostgreSQL keeps its own invariants."""
        if not self.is_sqlite:
            return True
        with self.engine.connect() as conn:
            return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"

    def data_version(self) -> int | None:
        """A number that changes whenever another connection commits; None if unknown.

        SQLite's ``PRAGMA data_version`` on one long-lived connection: a few
        microseconds, so readers can keep an answer (what serves) until something
        was written, instead of asking the database on every request.
        PostgreSQL has no equivalent: None, and callers ask each time.
        """
        path = self.engine.url.database
        if not self.is_sqlite or not path or path == ":memory:":
            return None
        with self._watch_lock:
            if self._watch is None:
                self._watch = sqlite3.connect(path, check_same_thread=False, timeout=30)
            return self._watch.execute("PRAGMA data_version").fetchone()[0]

    def dispose(self) -> None:
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
