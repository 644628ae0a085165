"""The SQLAlchemy engine behind a ledger: SQLite tuned for one writer and many readers, or any URL.

SQLite files run in WAL mode (readers never block the writer, the writer never blocks
readers) with a busy timeout, foreign keys on and ``synchronous=FULL`` (a committed order
or fill survives a power cut, not only a process crash). The pysqlite driver's own
transaction handling is switched off so that SQLAlchemy's ``begin()`` is a real SQLite
transaction: a write transaction starts with ``BEGIN IMMEDIATE`` and takes the write lock up
front, so two writers queue on the busy timeout instead of deadlocking on a lock upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

LEDGER_FILE_NAME = "ledger.sqlite"
BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tradeloom_ledger_write"


def default_ledger_url(home: Path) -> str:
    """The SQLite ledger under TRADELOOM_HOME: ``sqlite:///<home>/ledger.sqlite``."""
    return f"sqlite:///{Path(home) / LEDGER_FILE_NAME}"


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
