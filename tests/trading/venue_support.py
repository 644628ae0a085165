"""Helpers for simulated-venue tests: bar builders and a listener that records what a venue reports."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np

from tradeloom.trading.events import Fill, OrderEvent
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import Order, OrderType, Side, TimeInForce
from tradeloom.trading.strategies.base import Bars

MINUTE = 60_000_000_000
T0 = 1_700_000_000 * 1_000_000_000


def btc(min_notional: str = "10", kind: InstrumentKind = InstrumentKind.PERPETUAL) -> Instrument:
    return Instrument("BTCUSD", kind, "BTC", "USD", D("0.01"), D("0.001"), D(min_notional))


def bars(*ohlc: tuple[float, float, float, float], volume: float = 1_000.0) -> Bars:
    n = len(ohlc)
    a = np.array(ohlc, dtype=float)
    return Bars(np.arange(n, dtype=np.int64) * MINUTE + T0, a[:, 0], a[:, 1], a[:, 2], a[:, 3], np.full(n, volume))


class Recorder:
    """A VenueListener that keeps every event and market notification it receives."""

    def __init__(self) -> None:
        self.events: list[OrderEvent] = []
        self.bars: list[int] = []

    def on_order_event(self, event: OrderEvent) -> None:
        self.events.append(event)

    def on_market_data(self, symbol: str, index: int) -> None:
        self.bars.append(index)

    def next_bar_of_interest(self, symbol: str, after: int) -> int:
        return after + 1  # every bar

    @property
    def fills(self) -> list[Fill]:
        return [e for e in self.events if isinstance(e, Fill)]

    def kinds(self, cid: str) -> list[str]:
        return [type(e).__name__ for e in self.events if e.client_order_id == cid]


_seq = iter(range(1, 1_000_000))


def order(side: Side, qty: str, kind: OrderType = OrderType.MARKET, price: str | None = None,
          stop: str | None = None, tif: TimeInForce = TimeInForce.GTC, ts: int = 0, cid: str | None = None,
          **kw: object) -> Order:
    return Order(cid or f"c{next(_seq)}", "BTCUSD", side, kind, D(qty), None if price is None else D(price),
                 None if stop is None else D(stop), tif, created_ns=ts, **kw)  # type: ignore[arg-type]


def close_ts(index: int) -> int:
    """When bar ``index`` closes (the next bar's start)."""
    return T0 + (index + 1) * MINUTE

