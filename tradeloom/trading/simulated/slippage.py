"""Slippage models: the price a taker pays beyond the touch.

A model receives the chunks an aggressive order took (price, quantity) and returns the
prices it actually pays, rounded to the tick against the taker (a buy rounds up, a sell
down). Resting (maker) fills never slip: they trade at their limit.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol, runtime_checkable

from tradeloom.trading.instrument import Instrument
from tradeloom.trading.orders import Side

TEN_THOUSAND = Decimal(10_000)


def _against(instrument: Instrument, side: Side, price: Decimal) -> Decimal:
    step = instrument.tick_size
    rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    return (price / step).quantize(Decimal(1), rounding=rounding) * step


@runtime_checkable
class SlippageModel(Protocol):
    """Turns touch prices into paid prices."""

    needs_depth: bool  # True if the model only makes sense with order-book levels

    def price(self, instrument: Instrument, side: Side, touch: Decimal, spread_known: bool) -> Decimal:
        """The price paid for a chunk taken at ``touch`` (already on the tick grid)."""
        ...


class FixedBps:
    """A fixed adverse move of ``bps`` basis points from the touch (0: no slippage)."""

    needs_depth = False

    def __init__(self, bps: Decimal | str | int = 0) -> None:
        self.bps = Decimal(str(bps))
        if self.bps < 0:
            raise ValueError(f"slippage bps must be >= 0, got {self.bps}")

    def price(self, instrument: Instrument, side: Side, touch: Decimal, spread_known: bool) -> Decimal:
        """touch x (1 +/- bps/10000), rounded against the taker."""
        if not self.bps:
            return touch
        return _against(instrument, side, touch * (1 + side.sign * self.bps / TEN_THOUSAND))


class HalfSpread:
    """Pay half the spread: the quote's own spread where there is one, else ``spread_bps`` around a bar's trade price."""

    needs_depth = False

    def __init__(self, spread_bps: Decimal | str | int) -> None:
        self.spread_bps = Decimal(str(spread_bps))
        if self.spread_bps < 0:
            raise ValueError(f"spread bps must be >= 0, got {self.spread_bps}")

    def price(self, instrument: Instrument, side: Side, touch: Decimal, spread_known: bool) -> Decimal:
        """The touch where quotes give the spread; bar price +/- spread/2 otherwise."""
        if spread_known or not self.spread_bps:
            return touch
        return _against(instrument, side, touch * (1 + side.sign * self.spread_bps / 2 / TEN_THOUSAND))


class BookWalk:
    """Walk the order book's depth: each level taken is paid at its own price (needs book snapshots or quotes)."""

    needs_depth = True

    def price(self, instrument: Instrument, side: Side, touch: Decimal, spread_known: bool) -> Decimal:
        """The level's own price: the walk itself is the slippage."""
        return touch
