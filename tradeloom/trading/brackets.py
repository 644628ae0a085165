"""Brackets: the orders that protect one position, kept consistent by the engine.

A managed position has at most one protective stop and one take-profit, linked
one-cancels-other (same ``oco_group``), plus any scale-out and exit orders. The engine
keeps them consistent whether or not the venue has native OCO:

- when the position is flat, every exit order still working is canceled (the sibling of
  the stop or take-profit that filled, scale-outs, a pending exit);
- otherwise the stop covers exactly the position less the working scale-outs: trimmed
  when exits fill, grown back when a scale-out is canceled or the position grows (it is
  left alone if scale-outs already cover everything); the take-profit never exceeds the
  position. A market exit (ExitPosition)
  does not count: the stop stays until the exit has filled, so the position is never
  without a stop; reduce-only on both keeps the venue from over-filling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradeloom.trading.orders import OPEN_STATUSES, Order, Purpose, Side

ZERO = Decimal(0)
_OPEN = OPEN_STATUSES


@dataclass(slots=True)
class ManagedPosition:
    """One position the engine manages, from its first entry fill to flat."""

    position_id: str
    side: Side
    oco_group: str
    opened_ts: int = -1  # ts of the first entry fill; -1 while the entry has not filled
    stop: Order | None = None
    take_profit: Order | None = None
    exits: list[Order] = field(default_factory=list)  # scale-outs and market exits
    entries: list[Order] = field(default_factory=list)
    unallocated_entry_fees: Decimal = ZERO
    last_entry_price: Decimal = ZERO

    def working_stop(self) -> Order | None:
        """The stop if it is still working."""
        stop = self.stop
        return stop if stop is not None and stop.status in _OPEN else None

    def working_take_profit(self) -> Order | None:
        """The take-profit if it is still working."""
        target = self.take_profit
        return target if target is not None and target.status in _OPEN else None

    def scale_out_quantity(self) -> Decimal:
        """Remaining quantity of working scale-out orders."""
        if not self.exits:  # the usual case, asked on every fill
            return ZERO
        return sum((o.remaining for o in self.exits if o.is_open and o.purpose is Purpose.SCALE_OUT), ZERO)

    def pending_exit_quantity(self) -> Decimal:
        """Remaining quantity of every working exit order other than the stop and take-profit."""
        if not self.exits:  # the usual case, asked on every bar a watching policy sees
            return ZERO
        return sum((o.remaining for o in self.exits if o.is_open), ZERO)

    def has_working_exit(self) -> bool:
        """True while a market exit of the whole position is working."""
        return any(o.is_open and o.purpose is Purpose.EXIT for o in self.exits)

    def working_orders(self) -> list[Order]:
        """Every exit-side order of this position still working."""
        orders = [o for o in (self.stop, self.take_profit) if o is not None and o.is_open]
        return orders + [o for o in self.exits if o.is_open]

    def forget_finished(self) -> None:
        """Drop finished scale-outs and exits so the lists stay short."""
        if self.exits:
            self.exits = [o for o in self.exits if o.is_open]


@dataclass(frozen=True, slots=True)
class Resize:
    """Set a working order's open quantity to ``remaining`` (its total becomes filled + remaining)."""

    order: Order
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel a working order."""

    order: Order
    reason: str


def consistency_actions(managed: ManagedPosition, open_quantity: Decimal) -> list[Resize | Cancel]:
    """What to change so the exit orders fit a position of ``open_quantity`` (>= 0)."""
    if open_quantity <= 0:
        return [Cancel(o, "position closed") for o in managed.working_orders()]
    actions: list[Resize | Cancel] = []
    stop = managed.working_stop()
    if stop is not None:
        cap = open_quantity - managed.scale_out_quantity()
        # cap <= 0 (scale-outs for everything, about to fill): the stop stays, protection first.
        if cap > 0 and cap != stop.remaining:
            actions.append(Resize(stop, cap))  # trimmed after exits, grown back when a scale-out is dropped
    target = managed.working_take_profit()
    if target is not None and target.remaining > open_quantity:
        actions.append(Resize(target, open_quantity))
    return actions
