"""The engine's account: cash and one position, in exact Decimal, with its history at every fill.

Accounting identity (exact, at any mark):

    cash + quantity x mark == starting cash + realised + unrealised(mark) - fees

It holds because cash moves by exactly -(signed quantity x price) - fee per fill and the
position keeps its open cost (see ``positions``). The history lets anyone read back the
exact account as it was at any moment, so an equity curve kept in float64 for speed can
always be checked against the exact Decimal one.
"""

from __future__ import annotations

import bisect
from decimal import Decimal

from tradeloom.trading.events import Fill
from tradeloom.trading.orders import Side
from tradeloom.trading.positions import Position


class Account:
    """Cash in the quote currency and the position in one instrument."""

    __slots__ = ("starting_cash", "cash", "position", "_ts", "_states")

    def __init__(self, symbol: str, quote: str, starting_cash: Decimal) -> None:
        self.starting_cash = Decimal(starting_cash)
        self.cash = self.starting_cash
        self.position = Position(symbol, quote)
        self._ts: list[int] = []
        self._states: list[tuple[Decimal, Position]] = []

    def apply(self, fill: Fill) -> Position:
        """Book ``fill``; returns the position after it."""
        self.position = self.position.apply(fill)
        notional = fill.price * fill.quantity
        self.cash += (-notional if fill.side is Side.BUY else notional) - fill.fee
        self._ts.append(fill.ts)
        self._states.append((self.cash, self.position))
        return self.position

    def equity(self, mark: Decimal) -> Decimal:
        """Cash plus the position marked at ``mark``."""
        return self.cash + self.position.quantity * mark

    def identity_holds(self, mark: Decimal) -> bool:
        """True when cash + value == start + realised + unrealised - fees, exactly."""
        p = self.position
        return self.equity(mark) == self.starting_cash + p.realised_pnl + p.unrealised_pnl(mark) - p.fees

    def at(self, ts: int) -> tuple[Decimal, Position]:
        """(cash, position) after every fill stamped at or before ``ts``."""
        i = bisect.bisect_right(self._ts, ts)
        if i == 0:
            return self.starting_cash, Position(self.position.symbol, self.position.quote)
        return self._states[i - 1]

    def history(self) -> tuple[list[int], list[tuple[Decimal, Position]]]:
        """Fill timestamps and the (cash, position) after each."""
        return self._ts, self._states
