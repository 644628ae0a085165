"""Orders and their lifecycle: the enums, the transition table, and the Order record.

The lifecycle is data: ``TRANSITIONS`` maps each status to the statuses it may move to.
``Order.transition`` raises ``IllegalTransitionError`` for any other edge, so a venue
adapter or the engine can never silently resurrect a filled or canceled order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from tradeloom.errors import TradeloomError

ZERO = Decimal(0)


class Side(str, Enum):
    """Buy or sell."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, Enum):
    """How an order executes."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(str, Enum):
    """How long an order works: until canceled, immediate-or-cancel, fill-or-kill."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class Purpose(str, Enum):
    """Why an order exists, so exits can be told apart in reports and by the policy."""

    ENTRY = "entry"
    STOP = "stop"
    TAKE_PROFIT = "take_profit"
    SCALE_OUT = "scale_out"
    EXIT = "exit"


class Liquidity(str, Enum):
    """Whether a fill added liquidity (maker) or removed it (taker)."""

    MAKER = "maker"
    TAKER = "taker"


class OrderStatus(str, Enum):
    """Where an order is in its lifecycle."""

    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # NEW -> REJECTED: refused before it left us (risk gate, instrument rules).
    S.NEW: frozenset({S.SUBMITTED, S.REJECTED}),
    # SUBMITTED -> CANCELED: canceled before the venue acknowledged it.
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELED}),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}
del S

OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
WORKING_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


class IllegalTransitionError(TradeloomError):
    """An order was asked to move along an edge the lifecycle table does not allow."""


@dataclass(slots=True, eq=False)
class Order:
    """One order as we know it: what was asked, and how far the venue has got with it."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None  # limit price (LIMIT, STOP_LIMIT)
    stop_price: Decimal | None = None  # trigger price (STOP_MARKET, STOP_LIMIT)
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    purpose: Purpose = Purpose.ENTRY
    status: OrderStatus = OrderStatus.NEW
    venue_order_id: str | None = None
    filled_quantity: Decimal = ZERO
    filled_notional: Decimal = ZERO
    oco_group: str | None = None  # siblings sharing this id cancel each other
    position_id: str | None = None  # the trade this order belongs to
    reason: str = ""  # why it was made (the intent's reason)
    created_ns: int = 0
    expire_ns: int | None = None  # good-till-time: EXPIRED at the first market event at or after this
    status_reason: str = ""  # why it was rejected, canceled or expired

    def __post_init__(self) -> None:
        if self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.price is None:
            raise ValueError(f"{self.order_type.value} order {self.client_order_id} needs a limit price")
        if self.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise ValueError(f"{self.order_type.value} order {self.client_order_id} needs a stop price")
        if self.post_only and self.order_type is not OrderType.LIMIT:
            raise ValueError(f"post-only order {self.client_order_id} must be a LIMIT order")

    @property
    def remaining(self) -> Decimal:
        """Quantity not yet filled."""
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        """True until the order reaches a terminal status."""
        return self.status in OPEN_STATUSES

    @property
    def average_fill_price(self) -> Decimal | None:
        """Volume-weighted fill price, None before the first fill."""
        if not self.filled_quantity:
            return None
        return self.filled_notional / self.filled_quantity

    def copy(self) -> Order:
        """An independent copy (a venue keeps its own; faster than copy.copy or the constructor)."""
        c = object.__new__(Order)
        c.client_order_id, c.symbol, c.side = self.client_order_id, self.symbol, self.side
        c.order_type, c.quantity, c.price = self.order_type, self.quantity, self.price
        c.stop_price, c.time_in_force, c.post_only = self.stop_price, self.time_in_force, self.post_only
        c.reduce_only, c.purpose, c.status = self.reduce_only, self.purpose, self.status
        c.venue_order_id, c.filled_quantity, c.filled_notional = self.venue_order_id, self.filled_quantity, self.filled_notional
        c.oco_group, c.position_id, c.reason = self.oco_group, self.position_id, self.reason
        c.created_ns, c.expire_ns, c.status_reason = self.created_ns, self.expire_ns, self.status_reason
        return c

    def transition(self, status: OrderStatus, reason: str = "") -> None:
        """Move to ``status``; IllegalTransitionError if the lifecycle table forbids it."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransitionError(
                f"order {self.client_order_id}: illegal transition {self.status.value} -> {status.value}"
            )
        self.status = status
        if reason:
            self.status_reason = reason

    def record_fill(self, quantity: Decimal, price: Decimal) -> None:
        """Add a fill of ``quantity`` at ``price`` and move to PARTIALLY_FILLED or FILLED."""
        if quantity <= 0 or quantity > self.remaining:
            raise ValueError(
                f"order {self.client_order_id}: fill of {quantity} does not fit the remaining {self.remaining}"
            )
        self.filled_quantity += quantity
        self.filled_notional += quantity * price
        self.transition(OrderStatus.FILLED if self.filled_quantity == self.quantity else OrderStatus.PARTIALLY_FILLED)
