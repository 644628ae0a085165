"""The ledger: trading state (orders, events, fills, positions, equity, trading state, backtest runs) in SQL.

``SqlLedger(url, venue=..., clock=...)`` implements ``tradeloom.trading.ledger_protocol.Ledger``
on SQLite (the default: a WAL-mode file under TRADELOOM_HOME, see ``default_ledger_url``) or
any SQLAlchemy URL (PostgreSQL, with psycopg, to scale). Opening a ledger migrates its schema
to the newest revision (alembic, run from code; ``migrate_ledger`` does it on request).

What it promises:

- Orders: ``record_order`` inserts an order under its client order id or moves the stored
  record along the domain's lifecycle table (any legal path, so a snapshot may skip steps);
  going back, leaving a final status, a smaller filled quantity or another order under the
  same id raises, and nothing is written. ``updated`` times come from the injected clock.
- Events (``order_events``) and fills are append-only (database triggers on SQLite and
  PostgreSQL). A fill id is stored once per venue: the same fill again is ignored, a
  different one under that id is a ``LedgerConflictError``. Positions are folded from the
  fills, in the order recorded, by the domain's ``fold``; nothing else stores them.
- ``venue=`` scopes orders, events, fills, instruments and equity snapshots, so paper and
  live share one database without mixing; trading state and backtest runs are shared.
- Money and quantities are ``Decimal`` in and out, digit for digit (stored as text); the
  domain's times are integer nanoseconds, the ledger's own records take and give aware UTC
  datetimes. A lock held past the busy timeout, or a lost connection, is a
  ``TransientError`` (retry); everything else the ledger refuses is permanent.
"""

from __future__ import annotations

from tradeloom.trading.ledger.columns import from_ns, utc_ns
from tradeloom.trading.ledger.connection import LEDGER_FILE_NAME, default_ledger_url
from tradeloom.trading.ledger.errors import LedgerConflictError, LedgerSchemaError
from tradeloom.trading.ledger.migrate import current_revision, head_revision, migrate_ledger, upgrade
from tradeloom.trading.ledger.records import (
    BacktestRun,
    BacktestTrade,
    EquitySnapshot,
    StateEntry,
)
from tradeloom.trading.ledger.sql_ledger import SqlLedger

__all__ = [
    "LEDGER_FILE_NAME",
    "BacktestRun",
    "BacktestTrade",
    "EquitySnapshot",
    "LedgerConflictError",
    "LedgerSchemaError",
    "SqlLedger",
    "StateEntry",
    "current_revision",
    "default_ledger_url",
    "from_ns",
    "head_revision",
    "migrate_ledger",
    "upgrade",
    "utc_ns",
]
