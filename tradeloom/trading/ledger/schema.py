"""The ledger tables as the code reads and writes them (the newest revision of ``migrations``).

The migrations create the tables; this module only describes them for queries, so a change
here always comes with a new migration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from tradeloom.trading.ledger.columns import ExactDecimal

metadata = MetaData()
SEQ = BigInteger().with_variant(Integer(), "sqlite")

orders = Table(
    "orders",
    metadata,
    Column("venue", String(64), primary_key=True),
    Column("client_order_id", String(128), primary_key=True),
    Column("venue_order_id", String(128)),
    Column("symbol", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("time_in_force", String(8), nullable=False),
    Column("post_only", Boolean, nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("price", ExactDecimal),
    Column("stop_price", ExactDecimal),
    Column("filled_quantity", ExactDecimal, nullable=False),
    Column("filled_notional", ExactDecimal, nullable=False),
    Column("status", String(24), nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("oco_group", String(128)),
    Column("position_id", String(128)),
    Column("created_ns", BigInteger, nullable=False),
    Column("expire_ns", BigInteger),
    Column("updated_ns", BigInteger, nullable=False),
)

order_events = Table(
    "order_events",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("venue", String(64), nullable=False),
    Column("client_order_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
)

fills = Table(
    "fills",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("venue", String(64), nullable=False),
    Column("fill_id", String(128), nullable=False),
    Column("client_order_id", String(128), nullable=False),
    Column("venue_order_id", String(128), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("fee", ExactDecimal, nullable=False),
    Column("fee_currency", String(16), nullable=False),
    Column("liquidity", String(8), nullable=False),
    Column("ts", BigInteger, nullable=False),
)

instruments = Table(
    "instruments",
    metadata,
    Column("venue", String(64), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("base", String(16), nullable=False),
    Column("quote", String(16), nullable=False),
    Column("tick_size", ExactDecimal, nullable=False),
    Column("lot_size", ExactDecimal, nullable=False),
    Column("min_notional", ExactDecimal, nullable=False),
    Column("max_notional", ExactDecimal),
    Column("min_quantity", ExactDecimal),
    Column("price_precision", Integer, nullable=False),
    Column("size_precision", Integer, nullable=False),
)

equity_snapshots = Table(
    "equity_snapshots",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("venue", String(64), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("cash", ExactDecimal, nullable=False),
    Column("equity", ExactDecimal, nullable=False),
    Column("realised", ExactDecimal, nullable=False),
    Column("unrealised", ExactDecimal, nullable=False),
    Column("fees", ExactDecimal, nullable=False),
)

trading_state = Table(
    "trading_state",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
)

backtest_runs = Table(
    "backtest_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("strategy", String(128), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("timeframe", String(16), nullable=False),
    Column("data_start_ns", BigInteger, nullable=False),
    Column("data_end_ns", BigInteger, nullable=False),
    Column("code_version", String(128), nullable=False),
    Column("metrics", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
)

backtest_trades = Table(
    "backtest_trades",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("symbol", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("entry_ns", BigInteger, nullable=False),
    Column("entry_price", ExactDecimal, nullable=False),
    Column("exit_ns", BigInteger),
    Column("exit_price", ExactDecimal),
    Column("pnl", ExactDecimal),
    Column("fees", ExactDecimal, nullable=False),
    Column("exit_reason", String(64), nullable=False),
)


def checked(table: Table, values: Mapping[str, Any], label: str) -> Mapping[str, Any]:
    """``values`` for a row of ``table``; ValueError naming the column if a text is longer than it holds.

    PostgreSQL refuses such a text and SQLite stores it, so the ledger checks for both.
    """
    for name, value in values.items():
        if isinstance(value, str):
            length = getattr(table.c[name].type, "length", None)
            if length is not None and len(value) > length:
                raise ValueError(f"{label}: {name} is {len(value)} characters long, the ledger holds at most {length}")
    return values
