"""Alembic environment for the ledger: runs on the connection ``migrate.upgrade`` hands over.

There is no alembic.ini: ``tradeloom.trading.ledger.migrate`` builds the configuration in
code and opens the transaction (on SQLite a ``BEGIN IMMEDIATE``), so a whole upgrade is one
atomic step and two processes opening the same ledger upgrade it once.
"""

from __future__ import annotations

from alembic import context


def run_migrations() -> None:
    """Run the pending revisions on the connection the caller passed in the config's attributes."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("ledger migrations run through tradeloom.trading.ledger.migrate.upgrade (with a connection)")
    context.configure(
        connection=connection,
        version_table=context.config.attributes["version_table"],
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if __name__ != "tradeloom.trading.ledger.migrations.env":  # alembic executes this file; a plain import does nothing
    run_migrations()
