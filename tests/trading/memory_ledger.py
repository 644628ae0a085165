"""An in-memory Ledger: a real implementation of the ledger protocol for engine tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from tradeloom.trading.events import Fill, OrderEvent
from tradeloom.trading.orders import Order
from tradeloom.trading.positions import Position


class MemoryLedger:
    """Keeps orders (as snapshots), events and fills in lists; ``log`` records the order of writes."""

    def __init__(self, quotes: dict[str, str]) -> None:
        self.quotes = quotes  # symbol -> quote currency, to fold positions
        self._orders: dict[str, Order] = {}
        self.events: list[OrderEvent] = []
        self._fills: dict[str, Fill] = {}
        self.log: list[tuple[str, str, str]] = []  # (what, client order id, detail)

    def record_order(self, order: Order) -> None:
        self._orders[order.client_order_id] = replace(order)
        self.log.append(("order", order.client_order_id, order.status.value))

    def record_event(self, event: OrderEvent) -> None:
        self.events.append(event)
        self.log.append(("event", event.client_order_id, type(event).__name__))

    def record_fill(self, fill: Fill) -> None:
        if fill.fill_id in self._fills:
            return
        self._fills[fill.fill_id] = fill
        self.log.append(("fill", fill.client_order_id, fill.fill_id))

    def order(self, client_order_id: str) -> Order:
        return self._orders[client_order_id]

    def open_orders(self) -> Sequence[Order]:
        return [o for o in self._orders.values() if o.is_open]

    def fills(self) -> Sequence[Fill]:
        return list(self._fills.values())

    def positions(self) -> dict[str, Position]:
        out: dict[str, Position] = {}
        for fill in self._fills.values():
            position = out.get(fill.symbol) or Position(fill.symbol, self.quotes[fill.symbol])
            out[fill.symbol] = position.apply(fill)
        return out
