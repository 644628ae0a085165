"""Position management: the protocol the engine calls, the intents it returns, and the fixed stop/take-profit.

The engine calls a policy at three moments:

1. ``plan_entry`` when the strategy asks to enter: the policy sizes the entry and names the
   protective stop it intends (from the reference price; the risk gate uses it for heat).
2. ``on_fill`` after every fill of an order of a position it manages, with the position
   state *after* the fill (quantity 0 means the position just closed).
3. ``on_market_data`` on every bar while a position is open, but only if the policy sets
   ``wants_market_data`` (a policy that does not care costs nothing per bar).

Requests and states handed to the policy are plain slotted records built for one call
(cheap to make on every bar); treat them as read-only. It answers with intents (set the stop, set the take-profit, scale out, exit), each with a
reason. The engine turns intents into orders (rounded to the instrument's increments in
the safe direction), passes every order through the risk gate, sends them, and keeps the
stop and take-profit one-cancels-other. Stop and take-profit orders are reduce-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, Sequence, runtime_checkable

from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.orders import Purpose, Side

ZERO = Decimal(0)


@dataclass(slots=True)
class EntryRequest:
    """The strategy wants a position on ``side``; what the policy needs to size it."""

    symbol: str
    side: Side
    confidence: float
    reference_price: Decimal  # the last close, on the tick grid
    equity: Decimal
    cash: Decimal
    instrument: Instrument
    reason: str
    ts: int


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """How much to enter and where the protective stop is expected to go (None: no stop)."""

    quantity: Decimal
    planned_stop: Decimal | None
    reason: str


@dataclass(slots=True)
class PositionState:
    """A managed position as the policy sees it."""

    position_id: str
    symbol: str
    side: Side  # BUY for a long, SELL for a short (the side it was opened with)
    quantity: Decimal  # open quantity, >= 0
    average_entry: Decimal  # of the open quantity (of the last open quantity once closed)
    opened_ts: int
    stop_price: Decimal | None  # the working protective stop, None if none rests
    stop_quantity: Decimal
    take_profit_price: Decimal | None
    pending_exit_quantity: Decimal  # remaining quantity of working non-stop exit orders
    realised_pnl: Decimal
    fees: Decimal
    bar_index: int
    high: float  # on_market_data: the bar just closed; on_fill: the fill price (the rest of the bar is unknown yet)
    low: float
    close: float


@dataclass(frozen=True, slots=True)
class SetStop:
    """Place or move the protective stop to ``price`` for ``quantity`` (None: the whole open quantity)."""

    price: Decimal
    reason: str
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SetTakeProfit:
    """Place or move the take-profit limit (OCO with the stop) to ``price`` for ``quantity`` (None: all)."""

    price: Decimal
    reason: str
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ScaleOut:
    """Exit ``quantity`` now (market) or at ``price`` (a resting limit); ``reason`` names the level."""

    quantity: Decimal
    reason: str
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExitPosition:
    """Exit the whole remaining position at market; the stop stays until the exit fills."""

    reason: str


@dataclass(frozen=True, slots=True)
class CancelEntries:
    """Cancel every working entry order (a breaker or a kill switch)."""

    reason: str


Intent = SetStop | SetTakeProfit | ScaleOut | ExitPosition | CancelEntries


@runtime_checkable
class PositionPolicy(Protocol):
    """Sizes entries and manages open positions by returning intents."""

    wants_market_data: bool

    def plan_entry(self, request: EntryRequest) -> EntryPlan | None:
        """Size an entry (None: do not enter)."""
        ...

    def on_fill(self, state: PositionState, fill: Fill, purpose: Purpose) -> Sequence[Intent]:
        """React to a fill of one of the position's orders; ``state`` is after the fill."""
        ...

    def on_market_data(self, state: PositionState) -> Sequence[Intent]:
        """React to a new bar while the position is open (called only if ``wants_market_data``)."""
        ...


class FixedStopTakeProfit:
    """A fixed quantity per entry, a stop ``stop_pct`` % and a take-profit ``take_profit_pct`` % from the entry fill."""

    wants_market_data = False

    def __init__(self, stop_pct: Decimal | str | float | None, take_profit_pct: Decimal | str | float | None,
                 quantity: Decimal | str | int = 1) -> None:
        self.stop_pct = None if stop_pct is None else Decimal(str(stop_pct))
        self.take_profit_pct = None if take_profit_pct is None else Decimal(str(take_profit_pct))
        self.quantity = Decimal(str(quantity))
        for name, value in (("stop_pct", self.stop_pct), ("take_profit_pct", self.take_profit_pct)):
            if value is not None and not 0 < value < 100:
                raise ValueError(f"{name} must be in (0, 100), got {value}")
        if self.quantity <= 0:
            raise ValueError(f"quantity must be positive, got {self.quantity}")

    def _stop(self, side: Side, entry: Decimal) -> Decimal | None:
        if self.stop_pct is None:
            return None
        return entry * (1 - side.sign * self.stop_pct / 100)

    def plan_entry(self, request: EntryRequest) -> EntryPlan | None:
        """Enter ``quantity``; the stop is planned ``stop_pct`` % from the reference price."""
        return EntryPlan(self.quantity, self._stop(request.side, request.reference_price), "fixed size")

    def on_fill(self, state: PositionState, fill: Fill, purpose: Purpose) -> Sequence[Intent]:
        """After an entry fill: the stop and take-profit around the average entry, for the whole position."""
        if purpose is not Purpose.ENTRY or state.quantity == 0:
            return ()
        intents: list[Intent] = []
        stop = self._stop(state.side, state.average_entry)
        if stop is not None:
            intents.append(SetStop(stop, "stop"))
        if self.take_profit_pct is not None:
            target = state.average_entry * (1 + state.side.sign * self.take_profit_pct / 100)
            intents.append(SetTakeProfit(target, "take_profit"))
        return intents

    def on_market_data(self, state: PositionState) -> Sequence[Intent]:
        """Nothing to do per bar: the stop and the target rest at the venue."""
        return ()
