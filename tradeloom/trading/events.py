"""Immutable order events as venues report them; a fill is the event that moves money.

Timestamps are integer nanoseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradeloom.trading.orders import Liquidity, Side


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    """We sent the order to the venue."""

    client_order_id: str
    ts: int


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The venue acknowledged the order and gave it its own id."""

    client_order_id: str
    venue_order_id: str
    ts: int


@dataclass(frozen=True, slots=True)
class OrderModified:
    """The venue changed a working order's quantity, limit or stop price."""

    client_order_id: str
    ts: int
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    """The order stopped working before it was filled in full."""

    client_order_id: str
    ts: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The order was refused (by the venue, the instrument rules or the risk gate)."""

    client_order_id: str
    ts: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderExpired:
    """The order's time ran out."""

    client_order_id: str
    ts: int
    reason: str


@dataclass(frozen=True, slots=True)
class Fill:
    """Part or all of an order executed: the filled event."""

    fill_id: str
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: Liquidity
    ts: int

    @property
    def signed_quantity(self) -> Decimal:
        """Quantity with the sign of the side: + for a buy, - for a sell."""
        return self.quantity if self.side is Side.BUY else -self.quantity

    @property
    def notional(self) -> Decimal:
        """price x quantity."""
        return self.price * self.quantity


OrderFilled = Fill

OrderEvent = OrderSubmitted | OrderAccepted | OrderModified | OrderCanceled | OrderRejected | OrderExpired | Fill
