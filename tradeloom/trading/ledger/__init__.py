"""The ledger: trading state (orders, events, fills, positions, equity, trading state, backtest runs) in SQL.

``SqlLedger(url)`` implements ``tradeloom.trading.ledger_protocol.Ledger`` on SQLite (WAL,
the default, a file under TRADELOOM_HOME: see ``default_ledger_url``) or any SQLAlchemy
URL (PostgreSQL to scale). Opening a ledger migrates its schema to the newest revision.
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
