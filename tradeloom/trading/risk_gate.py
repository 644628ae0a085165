"""The risk gate every order passes before it is sent: accept, shrink or refuse, with a reason.

The engine builds the order (rounded to the instrument's increments), asks the gate with
an ``AccountView`` of the moment, and then:

- ACCEPT: sends the order as it is;
- SHRINK: sends it with ``quantity`` (the engine rounds it down to the lot size; if that
  leaves nothing the order is refused);
- REFUSE: records the order as REJECTED with the gate's reason and does not send it.

Protective orders (stops, take-profits and exits, all reduce-only) pass the gate too, so a
gate can see them; a gate should not refuse an order that only reduces exposure unless it
has a reason to (a kill switch that flattens still needs its exits to go through).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Mapping, Protocol, Sequence, runtime_checkable

from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.orders import Order, Purpose
from tradeloom.trading.positions import Position


class Verdict(str, Enum):
    """What the gate decided."""

    ACCEPT = "accept"
    SHRINK = "shrink"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The gate's answer; ``quantity`` is the new size for SHRINK."""

    verdict: Verdict
    reason: str = ""
    quantity: Decimal | None = None

    def __post_init__(self) -> None:
        if self.verdict is Verdict.SHRINK and (self.quantity is None or self.quantity <= 0):
            raise ValueError("a SHRINK decision needs a positive quantity")
        if self.verdict is not Verdict.ACCEPT and not self.reason:
            raise ValueError(f"a {self.verdict.value} decision needs a reason")


ACCEPT = RiskDecision(Verdict.ACCEPT)


def shrink(quantity: Decimal, reason: str) -> RiskDecision:
    """A SHRINK decision to ``quantity``."""
    return RiskDecision(Verdict.SHRINK, reason, quantity)


def refuse(reason: str) -> RiskDecision:
    """A REFUSE decision."""
    return RiskDecision(Verdict.REFUSE, reason)


@dataclass(slots=True)
class AccountView:
    """The account at the moment of a decision, in exact Decimal (built per call; treat as read-only)."""

    ts: int
    starting_cash: Decimal
    cash: Decimal
    equity: Decimal  # cash + positions marked at ``marks``
    positions: Mapping[str, Position]
    marks: Mapping[str, Decimal]
    open_orders: Sequence[Order] = field(default_factory=tuple)
    protective_stops: Mapping[str, Decimal] = field(default_factory=dict)  # symbol -> working stop price


@dataclass(slots=True)
class OrderRequest:
    """An order on its way to the venue, with what the gate needs to judge it."""

    order: Order  # status NEW, already rounded to the instrument's increments
    instrument: Instrument
    reference_price: Decimal  # the last close (for market orders) or the order's own price
    planned_stop: Decimal | None = None  # for entries: where the protective stop will go

    @property
    def purpose(self) -> Purpose:
        """The order's purpose."""
        return self.order.purpose


@runtime_checkable
class RiskGate(Protocol):
    """Judges every order before it is sent and hears about every fill."""

    def check(self, request: OrderRequest, account: AccountView) -> RiskDecision:
        """Accept, shrink or refuse ``request``."""
        ...

    def on_fill(self, fill: Fill, purpose: Purpose, account: AccountView) -> None:
        """Learn of a fill (losses for breakers, stop-outs for cooldowns)."""
        ...


class NoRiskLimits:
    """A gate without limits: every order is accepted (the venue's own rules still apply)."""

    def check(self, request: OrderRequest, account: AccountView) -> RiskDecision:
        """Accept."""
        return ACCEPT

    def on_fill(self, fill: Fill, purpose: Purpose, account: AccountView) -> None:
        """Nothing to learn."""
        return None
