"""The SQLAlchemy engine behind a ledger: SQLite tuned for one writer and many readers, or any URL.

SQLite files run in WAL mode (readers never block the writer, the writer never blocks
readers) with a busy timeout, foreign keys on and ``synchronous=FULL`` (a committed order
or fill survives a power cut, not only a process crash). The pysqlite driver's own
transaction handling is switched off so that SQLAlchemy's ``begin()`` is a real SQLite
transaction: a write transaction starts with ``BEGIN IMMEDIATE`` and takes the write lock up
front, so two writers queue on the busy timeout instead of deadlocking on a lock upgrade.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import StaticPool

from tradeloom.errors import TransientError

LEDGER_FILE_NAME = "ledger.sqlite"
BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tradeloom_ledger_write"


def default_ledger_url(home: Path) -> str:
    """The SQLite ledger under TRADELOOM_HOME: ``sqlite:///<home>/ledger.sqlite`` (%, ? and # in the path escaped)."""
    return URL.create("sqlite", database=str(Path(home) / LEDGER_FILE_NAME)).render_as_string(hide_password=False)


def ledger_engine(url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and real transactions."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"ledger URL {url!r} is not a SQLAlchemy URL (e.g. sqlite:///ledger.sqlite)") from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ModuleNotFoundError as missing:
            raise ValueError(
                f"ledger URL {parsed.render_as_string(hide_password=True)!r} needs the database driver "
                f"{missing.name!r}, which is not installed (a postgresql:// URL needs psycopg)"
            ) from None
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    options: dict[str, Any] = {"connect_args": {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}}
    if in_memory:
        options["poolclass"] = StaticPool  # one shared connection, or every checkout is a new empty database
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **options)
    _tune_sqlite(engine, wal=not in_memory, busy_timeout_ms=busy_timeout_ms)
    return engine


def _tune_sqlite(engine: Engine, wal: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see the module docstring)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, whose transactions take the write lock at BEGIN (on SQLite)."""
    return engine.execution_options(**{WRITE_OPTION: True})


_BUSY = ("database is locked", "database table is locked", "database is busy")


@contextmanager
def transient_when_unavailable(url: str) -> Iterator[None]:
    """Turn a lock held past the busy timeout, or a lost connection, into a TransientError (worth a retry)."""
    try:
        yield
    except OperationalError as error:
        message = str(error.orig).lower()
        if error.connection_invalidated or any(busy in message for busy in _BUSY):
            raise TransientError(f"the ledger at {url} is unavailable, try again: {error.orig}") from error
        raise


class LedgerDatabase:
    """The engine of one ledger and its transactions; a lock held too long or a lost connection is a TransientError."""

    def __init__(self, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        if busy_timeout_ms < 0:
            raise ValueError(f"the ledger busy timeout must be >= 0 ms, got {busy_timeout_ms}")
        self.engine = ledger_engine(url, busy_timeout_ms)
        self._writer = writer(self.engine)

    @property
    def url(self) -> str:
        """The database URL with any password masked (safe to log)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it holds the write lock from its start): committed if the block ends well."""
        with transient_when_unavailable(self.url), self._writer.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot, never blocked by the writer on SQLite (WAL)."""
        with transient_when_unavailable(self.url), self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
