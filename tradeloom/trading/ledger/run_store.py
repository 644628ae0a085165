"""Backtest runs and their trades in the ledger: what ran, on which data and code, and how it did."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from tradeloom.trading.ledger import schema
from tradeloom.trading.ledger.columns import dump_json, from_ns, load_json, utc_ns
from tradeloom.trading.ledger.connection import LedgerDatabase
from tradeloom.trading.ledger.errors import LedgerConflictError
from tradeloom.trading.ledger.records import BacktestRun, BacktestTrade


def _run_values(run: BacktestRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "strategy": run.strategy,
        "parameters": dump_json(run.parameters, f"backtest run {run.run_id} parameters"),
        "symbol": run.symbol,
        "timeframe": run.timeframe,
        "data_start_ns": utc_ns(run.data_start),
        "data_end_ns": utc_ns(run.data_end),
        "code_version": run.code_version,
        "metrics": dump_json(run.metrics, f"backtest run {run.run_id} metrics"),
        "created_ns": utc_ns(run.created_at),
    }


def _trade_values(run_id: str, seq: int, trade: BacktestTrade) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "seq": seq,
        "symbol": trade.symbol,
        "side": trade.side.value,
        "quantity": trade.quantity,
        "entry_ns": utc_ns(trade.entry_at),
        "entry_price": trade.entry_price,
        "exit_ns": None if trade.exit_at is None else utc_ns(trade.exit_at),
        "exit_price": trade.exit_price,
        "pnl": trade.pnl,
        "fees": trade.fees,
        "exit_reason": trade.exit_reason,
    }


def _trade_from_row(row: Mapping[Any, Any]) -> BacktestTrade:
    return BacktestTrade(
        symbol=row["symbol"],
        side=row["side"],
        quantity=row["quantity"],
        entry_at=from_ns(row["entry_ns"]),
        entry_price=row["entry_price"],
        exit_at=None if row["exit_ns"] is None else from_ns(row["exit_ns"]),
        exit_price=row["exit_price"],
        pnl=row["pnl"],
        fees=row["fees"],
        exit_reason=row["exit_reason"],
    )


def _run_from_row(row: Mapping[Any, Any], trades: tuple[BacktestTrade, ...]) -> BacktestRun:
    return BacktestRun(
        run_id=row["run_id"],
        strategy=row["strategy"],
        parameters=load_json(row["parameters"]),
        symbol=row["symbol"],
        timeframe=row["timeframe"],
        data_start=from_ns(row["data_start_ns"]),
        data_end=from_ns(row["data_end_ns"]),
        code_version=row["code_version"],
        metrics=load_json(row["metrics"]),
        created_at=from_ns(row["created_ns"]),
        trades=trades,
    )


def _load_run(connection: Connection, run_id: str) -> BacktestRun | None:
    query = select(schema.backtest_runs).where(schema.backtest_runs.c.run_id == run_id)
    row = connection.execute(query).mappings().first()
    if row is None:
        return None
    table = schema.backtest_trades
    trade_rows = connection.execute(select(table).where(table.c.run_id == run_id).order_by(table.c.seq)).mappings()
    return _run_from_row(row, tuple(_trade_from_row(trade) for trade in trade_rows))


class BacktestRunRecords:
    """The part of SqlLedger that keeps backtest runs (shared by every venue)."""

    _db: LedgerDatabase

    def record_backtest_run(self, run: BacktestRun) -> str:
        """Store ``run`` and its trades, return its id; the same run again is a no-op, another a LedgerConflictError."""
        if not isinstance(run, BacktestRun):
            raise TypeError(f"record_backtest_run needs a BacktestRun, got {type(run).__name__}")
        label = f"backtest run {run.run_id}"
        values = schema.checked(schema.backtest_runs, _run_values(run), label)
        trades = [
            schema.checked(schema.backtest_trades, _trade_values(run.run_id, seq, trade), f"{label} trade {seq}")
            for seq, trade in enumerate(run.trades)
        ]
        with self._db.write() as connection:
            stored = _load_run(connection, run.run_id)
            if stored is not None:
                if stored != _run_from_row(values, tuple(_trade_from_row(trade) for trade in trades)):
                    raise LedgerConflictError(f"backtest run {run.run_id} is already recorded with different contents")
                return run.run_id
            connection.execute(insert(schema.backtest_runs).values(**values))
            if trades:
                connection.execute(insert(schema.backtest_trades), trades)
        return run.run_id

    def backtest_run(self, run_id: str) -> BacktestRun | None:
        """The run ``run_id`` with its trades, None if there is none."""
        with self._db.read() as connection:
            return _load_run(connection, run_id)

    def backtest_runs(
        self, strategy: str | None = None, symbol: str | None = None, limit: int | None = None
    ) -> list[BacktestRun]:
        """Runs, newest first, without their trades (``backtest_run(id)`` loads those)."""
        table = schema.backtest_runs
        query = select(table)
        if strategy is not None:
            query = query.where(table.c.strategy == strategy)
        if symbol is not None:
            query = query.where(table.c.symbol == symbol)
        query = query.order_by(table.c.created_ns.desc(), table.c.run_id)
        if limit is not None:
            if limit < 1:
                raise ValueError(f"limit must be at least 1, got {limit}")
            query = query.limit(limit)
        with self._db.read() as connection:
            return [_run_from_row(row, ()) for row in connection.execute(query).mappings()]
