"""Records the ledger keeps beside orders and fills: equity snapshots, trading state, backtest runs.

Times are timezone-aware UTC datetimes in and out (a naive one is refused); money and
quantities are Decimal in and out, exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradeloom.trading.ledger.columns import exact_decimal, utc_ns
from tradeloom.trading.orders import Side


def _utc(moment: datetime, name: str) -> datetime:
    utc_ns(moment, name)  # refuses naive datetimes with a clear message
    return moment.astimezone(UTC)


def _text(value: object, name: str, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__} {value!r}")
    if required and not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


@dataclass(frozen=True)
class EquitySnapshot:
    """The account at one moment: cash, equity, realised and unrealised PnL and fees paid."""

    ts: datetime
    cash: Decimal
    equity: Decimal
    realised: Decimal
    unrealised: Decimal
    fees: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", _utc(self.ts, "equity snapshot ts"))
        for name in ("cash", "equity", "realised", "unrealised", "fees"):
            object.__setattr__(self, name, exact_decimal(getattr(self, name), f"equity snapshot {name}"))


@dataclass(frozen=True)
class StateEntry:
    """One trading-state switch (kill switch, breaker state): its value, why, and when it was set."""

    key: str
    value: str
    reason: str
    updated_at: datetime

    def __post_init__(self) -> None:
        _text(self.key, "trading state key")
        _text(self.value, f"trading state {self.key!r} value", required=False)
        _text(self.reason, f"trading state {self.key!r} reason", required=False)
        object.__setattr__(self, "updated_at", _utc(self.updated_at, f"trading state {self.key!r} updated_at"))


@dataclass(frozen=True)
class BacktestTrade:
    """One round trip (or one scale-out) of a backtest: entry, exit, PnL and fees."""

    symbol: str
    side: Side
    quantity: Decimal
    entry_at: datetime
    entry_price: Decimal
    exit_at: datetime | None
    exit_price: Decimal | None
    pnl: Decimal | None
    fees: Decimal
    exit_reason: str = ""

    def __post_init__(self) -> None:
        label = f"backtest trade {self.symbol}"
        _text(self.symbol, "backtest trade symbol")
        try:
            object.__setattr__(self, "side", Side(self.side))
        except ValueError:
            raise ValueError(f"{label} side must be BUY or SELL, got {self.side!r}") from None
        for name in ("quantity", "entry_price", "fees"):
            object.__setattr__(self, name, exact_decimal(getattr(self, name), f"{label} {name}"))
        for name in ("exit_price", "pnl"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, exact_decimal(getattr(self, name), f"{label} {name}"))
        object.__setattr__(self, "entry_at", _utc(self.entry_at, f"{label} entry_at"))
        if self.exit_at is not None:
            object.__setattr__(self, "exit_at", _utc(self.exit_at, f"{label} exit_at"))
        _text(self.exit_reason, f"{label} exit_reason", required=False)


@dataclass(frozen=True)
class BacktestRun:
    """One backtest: what ran (strategy, parameters, data, code version), what it scored, and its trades."""

    run_id: str
    strategy: str
    parameters: Mapping[str, Any]
    symbol: str
    timeframe: str
    data_start: datetime
    data_end: datetime
    code_version: str
    metrics: Mapping[str, Any]
    created_at: datetime
    trades: tuple[BacktestTrade, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("run_id", "strategy", "symbol", "timeframe", "code_version"):
            _text(getattr(self, name), f"backtest run {name}")
        for name in ("data_start", "data_end", "created_at"):
            object.__setattr__(self, name, _utc(getattr(self, name), f"backtest run {self.run_id} {name}"))
        if self.data_end < self.data_start:
            raise ValueError(
                f"backtest run {self.run_id}: data_end {self.data_end.isoformat()} "
                f"is before data_start {self.data_start.isoformat()}"
            )
        for name in ("parameters", "metrics"):
            if not isinstance(getattr(self, name), Mapping):
                raise TypeError(f"backtest run {self.run_id} {name} must be a mapping, got {getattr(self, name)!r}")
            object.__setattr__(self, name, dict(getattr(self, name)))
        trades = tuple(self.trades)
        for trade in trades:
            if not isinstance(trade, BacktestTrade):
                raise TypeError(f"backtest run {self.run_id} trades must be BacktestTrade, got {trade!r}")
        object.__setattr__(self, "trades", trades)
