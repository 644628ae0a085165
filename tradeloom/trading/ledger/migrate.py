"""Versioned schema migrations of the ledger: alembic, driven from code (no alembic.ini at runtime).

The revisions live in ``migrations/versions`` (0001, 0002, ...). Opening a ledger brings its
database to the newest revision. A database already there is recognised with one query and
left alone, without taking the write lock (readers open freely while the live loop writes)
and without importing alembic (it is only loaded when there is something to upgrade).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from tradeloom.trading.ledger.connection import ledger_engine, transient_when_unavailable, writer
from tradeloom.trading.ledger.errors import LedgerSchemaError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

VERSION_TABLE = "ledger_schema_version"
SCRIPT_LOCATION = "tradeloom.trading.ledger:migrations"
# The newest revision in migrations/versions; a test checks that alembic agrees.
HEAD_REVISION = "0003"
_PG_LOCK_KEY = 0x7472_6164_656C_6F6F  # "tradeloo": serialises concurrent upgrades on PostgreSQL


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    config.attributes["version_table"] = VERSION_TABLE
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest schema revision among the migration scripts."""
    head = _scripts().get_current_head()
    assert head is not None, "the ledger has at least one migration"
    return head


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:
        raise LedgerSchemaError(f"the ledger records several schema revisions at once ({', '.join(versions)})")
    return versions[0] if versions else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database at ``engine`` is at, None for an empty database."""
    with engine.connect() as connection:
        return _current(connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` in one transaction; LedgerSchemaError if it is at an unknown one."""
    from alembic import command

    current: str | None = None
    url = engine.url.render_as_string(hide_password=True)
    try:
        with transient_when_unavailable(url), writer(engine).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            elif connection.dialect.name == "sqlite":
                # a batch migration rebuilds a table (copy, drop, rename): check foreign keys at commit, not midway
                connection.execute(text("PRAGMA defer_foreign_keys = ON"))
            current = _current(connection)
            _check_known(current)
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as error:
        raise LedgerSchemaError(
            f"upgrading the ledger schema from {current or 'empty'} to {revision} failed and nothing was changed: "
            f"{error.__class__.__name__}: {str(error).splitlines()[0]}"
        ) from error


def migrate_ledger(url: str, revision: str = "head") -> str | None:
    """Bring the ledger at ``url`` to ``revision`` (for an operator or a CLI); the revision it is at afterwards."""
    engine = ledger_engine(url)
    try:
        upgrade(engine, revision)
        return current_revision(engine)
    finally:
        engine.dispose()


def ensure_current(engine: Engine) -> None:
    """Upgrade the database to the newest revision unless it is there already."""
    if current_revision(engine) != HEAD_REVISION:
        upgrade(engine)


def _check_known(current: str | None) -> None:
    if current is None:
        return
    from alembic.util.exc import CommandError

    try:
        known = _scripts().get_revision(current)
    except CommandError:
        known = None
    if known is None:
        raise LedgerSchemaError(
            f"the ledger is at schema revision {current!r}, which this tradeloom does not know "
            f"(its newest is {head_revision()!r}); upgrade tradeloom before opening this ledger"
        )
