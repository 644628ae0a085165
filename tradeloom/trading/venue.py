"""The venue protocol: what the engine needs from any place that executes orders.

A venue is also the engine's source of market data: ``pump`` delivers the next market
event to the connected listener (a simulated venue replays history, a live venue waits for
the exchange), and order events (accepted, filled, canceled, ...) reach the listener as
they happen, in the order they happen. ``fills_since`` lets a restarted engine catch up
with fills it has not seen (reconciliation with the ledger).

Orders are submitted already rounded to the instrument's increments; a venue refuses an
order that breaks its rules (lot size, tick size, min/max notional, post-only that would
take, reduce-only without a position) with an ``OrderRejected`` event naming the rule.

A venue that sees depth may also implement ``OrderBookSource``; the engine's executor then
plans each market order from the current book (``order_book_of``), else without one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

from tradeloom.trading.events import Fill, OrderEvent
from tradeloom.trading.orders import Order
from tradeloom.trading.strategies.base import Bars

if TYPE_CHECKING:
    from tradeloom.trading.risk.execution.orderbook import OrderBook


@runtime_checkable
class VenueListener(Protocol):
    """Receives what a venue reports."""

    def on_order_event(self, event: OrderEvent) -> None:
        """An order event (accepted, modified, filled, canceled, rejected, expired)."""
        ...

    def on_market_data(self, symbol: str, index: int) -> None:
        """Market event ``index`` of ``symbol`` is complete (for bar data: bar ``index`` of ``venue.bars(symbol)`` closed)."""
        ...

    def next_bar_of_interest(self, symbol: str, after: int) -> int:
        """The first bar index after ``after`` the listener must be told about (a venue may tell it about more).

        A venue still matches orders on every bar in between; this only spares the
        listener calls for bars where it has nothing to do. A venue asks again after
        each notification and after any order event.
        """
        ...


@runtime_checkable
class Venue(Protocol):
    """Submit, cancel and modify orders; report orders, balances, positions, fills and market data."""

    name: str
    supports_oco: bool  # True if the venue itself cancels an order's OCO siblings on a fill

    def connect(self, listener: VenueListener) -> None:
        """Send every later event to ``listener``."""
        ...

    def pump(self) -> bool:
        """Process market events up to the next one the listener wants and report it; False when the session ends."""
        ...

    def submit(self, order: Order) -> None:
        """Send ``order`` (status NEW, moved to SUBMITTED by the caller); the answer comes as events."""
        ...

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        """Ask to cancel a working order; an unknown or finished order is ignored."""
        ...

    def modify(self, client_order_id: str, *, quantity: Decimal | None = None, price: Decimal | None = None,
               stop_price: Decimal | None = None) -> None:
        """Change a working order's quantity, limit price or stop price (OrderModified or OrderRejected)."""
        ...

    def open_orders(self) -> Sequence[Order]:
        """Orders still working at the venue."""
        ...

    def balances(self) -> dict[str, Decimal]:
        """Currency -> amount."""
        ...

    def positions(self) -> dict[str, Decimal]:
        """Symbol -> signed quantity."""
        ...

    def fills_since(self, cursor: int) -> tuple[list[Fill], int]:
        """Fills after ``cursor`` (0: all) and the cursor to pass next time."""
        ...

    def bars(self, symbol: str) -> Bars:
        """The bars of ``symbol`` known so far (closed bars only)."""
        ...


@runtime_checkable
class OrderBookSource(Protocol):
    """Optional for a venue: the current order book of a symbol (None when it has none right now)."""

    def order_book(self, symbol: str) -> OrderBook | None:
        """The latest order-book snapshot of ``symbol``, best levels first, or None."""
        ...


def order_book_of(venue: object, symbol: str) -> OrderBook | None:
    """``venue``'s current book of ``symbol`` if it is an ``OrderBookSource``, else None."""
    return venue.order_book(symbol) if isinstance(venue, OrderBookSource) else None
