"""A position as a fold over fills, in exact Decimal.

The position keeps ``cost``: the signed notional (sum of quantity x price) of the open
quantity. When a fill reduces the position, the share of cost it removes is computed once,
quantized to the cost's own exponent, and used for both the realised PnL and the remaining
cost. So however that share rounds, this identity holds exactly for every fold:

    cash = start - sum(signed fill notionals) - fees
    cash + quantity x mark = start + realised + unrealised(mark) - fees

Fees are in the quote currency (a fill with a fee in another currency is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from tradeloom.trading.events import Fill
from tradeloom.trading.orders import Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Position:
    """Net position in one instrument: signed quantity, open cost, realised PnL and fees paid."""

    symbol: str
    quote: str
    quantity: Decimal = ZERO  # + long, - short
    cost: Decimal = ZERO  # signed notional of the open quantity
    realised_pnl: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def is_flat(self) -> bool:
        """True with no open quantity."""
        return self.quantity == 0

    @property
    def side(self) -> Side | None:
        """BUY for a long, SELL for a short, None when flat."""
        if self.quantity > 0:
            return Side.BUY
        if self.quantity < 0:
            return Side.SELL
        return None

    @property
    def average_entry(self) -> Decimal | None:
        """Average entry price of the open quantity, None when flat."""
        if not self.quantity:
            return None
        return self.cost / self.quantity

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        """PnL of the open quantity if it were closed at ``mark`` (fees excluded)."""
        return self.quantity * mark - self.cost

    def market_value(self, mark: Decimal) -> Decimal:
        """Signed value of the open quantity at ``mark``."""
        return self.quantity * mark

    def apply(self, fill: Fill) -> Position:
        """This position after ``fill``."""
        if fill.symbol != self.symbol:
            raise ValueError(f"fill {fill.fill_id} is for {fill.symbol}, not {self.symbol}")
        if fill.fee_currency != self.quote:
            raise ValueError(
                f"fill {fill.fill_id} charges its fee in {fill.fee_currency}; positions account fees in {self.quote}"
            )
        if fill.quantity <= 0:
            raise ValueError(f"fill {fill.fill_id} has non-positive quantity {fill.quantity}")
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        quantity, cost, realised = self.quantity, self.cost, self.realised_pnl
        if quantity == 0 or (quantity > 0) == (signed > 0):
            quantity, cost = quantity + signed, cost + signed * fill.price
        else:
            held = abs(quantity)
            closing = min(fill.quantity, held)
            if closing == held:
                removed = cost
            else:
                exponent = min(cost.as_tuple().exponent, (closing * fill.price).as_tuple().exponent)
                removed = (cost * closing / held).quantize(Decimal(1).scaleb(int(exponent)))
            closing_signed = closing if signed > 0 else -closing
            # closing a long sells: proceeds closing*price; closing a short buys back.
            realised += -closing_signed * fill.price - removed
            cost -= removed
            quantity += closing_signed
            opening = fill.quantity - closing
            if opening:
                opening_signed = opening if signed > 0 else -opening
                quantity, cost = quantity + opening_signed, cost + opening_signed * fill.price
        return Position(self.symbol, self.quote, quantity, cost, realised, self.fees + fill.fee)


def fold(symbol: str, quote: str, fills: Iterable[Fill]) -> Position:
    """The position in ``symbol`` that ``fills`` (in order) add up to."""
    position = Position(symbol, quote)
    for fill in fills:
        if fill.symbol == symbol:
            position = position.apply(fill)
    return position
