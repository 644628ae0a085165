"""What the engine needs from the ledger (trading state that survives a restart).

The engine records an order (with its client order id) *before* sending it, every order
event when it is seen, and every fill when it is seen. On start it reads back open orders,
fills and positions to reconcile with the venue. The SQL implementation lives in
``tradeloom.trading.ledger``; any object with these methods will do.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from tradeloom.trading.events import Fill, OrderEvent
from tradeloom.trading.orders import Order
from tradeloom.trading.positions import Position


@runtime_checkable
class Ledger(Protocol):
    """Durable record of orders, their events, fills and positions."""

    def record_order(self, order: Order) -> None:
        """Store ``order`` as it is now (insert, or update its status and fills if known)."""
        ...

    def record_event(self, event: OrderEvent) -> None:
        """Append an order event (a Fill passed here is stored as an event, not as a fill)."""
        ...

    def record_fill(self, fill: Fill) -> None:
        """Store a fill once (a fill id seen before is ignored)."""
        ...

    def open_orders(self) -> Sequence[Order]:
        """Orders last recorded with an open status."""
        ...

    def fills(self) -> Sequence[Fill]:
        """Every fill, in the order recorded."""
        ...

    def positions(self) -> dict[str, Position]:
        """Symbol -> position folded from the recorded fills."""
        ...
