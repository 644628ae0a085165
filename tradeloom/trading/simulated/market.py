"""Market data the simulated venue replays, turned into price points with liquidity.

Bars become four points (open, one extreme, the other extreme, close) joined by continuous
moves; quotes (ticks) and order-book snapshots become one point each, reached by a jump.
A point carries the best bid and ask (equal for bars, which are trades) and the liquidity
an order can take there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Sequence

import numpy as np

from tradeloom.trading.orders import Side

INF = float("inf")


class IntrabarOrder(str, Enum):
    """In which order a bar's high and low are assumed to trade after its open."""

    CONSERVATIVE = "conservative"  # the extreme adverse to the open position first (long: low first)
    OPEN_HIGH_LOW_CLOSE = "ohlc"
    OPEN_LOW_HIGH_CLOSE = "olhc"
    NEAREST_FIRST = "nearest"  # the extreme nearer to the open first


@dataclass(frozen=True, eq=False)
class Quotes:
    """Top-of-book quotes (ticks): arrays of ts (UTC ns), bid, ask, bid_size, ask_size."""

    ts: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ts)
        for name in ("bid", "ask", "bid_size", "ask_size"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"quotes column {name!r} has {len(getattr(self, name))} values, ts has {n}")
        if n and (np.asarray(self.ask) < np.asarray(self.bid)).any():
            bad = int(np.flatnonzero(np.asarray(self.ask) < np.asarray(self.bid))[0])
            raise ValueError(f"quote {bad} is crossed: ask {self.ask[bad]} below bid {self.bid[bad]}")

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class BookSnapshot:
    """An order-book snapshot: levels as (price, quantity), best first."""

    ts: int
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.bids or not self.asks:
            raise ValueError(f"book snapshot at {self.ts} needs at least one bid and one ask level")
        if self.asks[0][0] < self.bids[0][0]:
            raise ValueError(f"book snapshot at {self.ts} is crossed: ask {self.asks[0][0]} < bid {self.bids[0][0]}")
        for side, levels, better in (("bids", self.bids, -1), ("asks", self.asks, 1)):
            prices = [p for p, _ in levels]
            if any(better * (b - a) <= 0 for a, b in zip(prices, prices[1:])):
                raise ValueError(f"book snapshot at {self.ts}: {side} must be sorted best first without repeats")


class Liquidity:
    """What can be traded at one point: levels per side (price, quantity), or one shared bar budget."""

    __slots__ = ("bids", "asks", "budget")

    def __init__(self, bids: list[list] | None, asks: list[list] | None, budget: list[Decimal | None] | None) -> None:
        self.bids = bids  # [[price, Decimal qty], ...] best first; None for bars
        self.asks = asks
        self.budget = budget  # bars: a one-element list shared by the bar's points; [None] = unlimited

    @property
    def has_depth(self) -> bool:
        """True when this point has order-book levels (quotes or snapshots)."""
        return self.bids is not None

    def take(self, side: Side, quantity: Decimal, limit: Decimal | None, price: float) -> list[tuple[float, Decimal]]:
        """Aggress: up to ``quantity`` at prices no worse than ``limit``; consumes what it takes."""
        if self.bids is None:
            budget = self.budget[0] if self.budget else None
            if limit is not None and ((side is Side.BUY and price > limit) or (side is Side.SELL and price < limit)):
                return []
            qty = quantity if budget is None else min(quantity, budget)
            if qty <= 0:
                return []
            if budget is not None:
                self.budget[0] = budget - qty  # type: ignore[index]
            return [(price, qty)]
        levels = self.asks if side is Side.BUY else self.bids
        out: list[tuple[float, Decimal]] = []
        left = quantity
        for level in levels:  # type: ignore[union-attr]
            if left <= 0:
                break
            lp, lq = level
            if limit is not None and ((side is Side.BUY and lp > limit) or (side is Side.SELL and lp < limit)):
                break
            qty = min(left, lq)
            if qty > 0:
                out.append((lp, qty))
                level[1] = lq - qty
                left -= qty
        return out

    def available(self, side: Side, limit: Decimal | None) -> Decimal | None:
        """Quantity an aggressive ``side`` order could take at prices no worse than ``limit`` (None: unlimited)."""
        if self.bids is None:
            return self.budget[0] if self.budget else None
        levels = self.asks if side is Side.BUY else self.bids
        total = Decimal(0)
        for lp, lq in levels:  # type: ignore[union-attr]
            if limit is not None and ((side is Side.BUY and lp > limit) or (side is Side.SELL and lp < limit)):
                break
            total += lq
        return total

    def through(self, side: Side, limit: Decimal) -> Decimal | None:
        """For a resting ``side`` limit: opposite quantity at prices strictly through it (None: unlimited)."""
        if self.bids is None:
            return self.budget[0] if self.budget else None
        levels = self.asks if side is Side.BUY else self.bids
        total = Decimal(0)
        for lp, lq in levels:  # type: ignore[union-attr]
            if (side is Side.BUY and lp >= limit) or (side is Side.SELL and lp <= limit):
                break
            total += lq
        return total

    def consume_through(self, side: Side, limit: Decimal, quantity: Decimal) -> None:
        """Remove ``quantity`` of the opposite liquidity a resting fill used."""
        if self.bids is None:
            if self.budget and self.budget[0] is not None:
                self.budget[0] -= quantity
            return
        self.take(side, quantity, None, 0.0)


@dataclass(slots=True)
class PricePoint:
    """One moment of the market: best bid and ask, whether it was reached continuously, its liquidity."""

    ts: int
    bid: float
    ask: float
    continuous: bool
    liquidity: Liquidity


def bar_open(ts: int, o: float, budget: Decimal | None) -> PricePoint:
    """A bar's open, reached by a jump from the previous close; its liquidity (a budget) is shared by the bar."""
    return PricePoint(ts, o, o, False, Liquidity(None, None, [budget]))


def bar_rest(opening: PricePoint, interval: int, h: float, low: float, c: float, order: IntrabarOrder,
             position_sign: int) -> list[PricePoint]:
    """The bar's two extremes and its close in the configured order, each reached continuously."""
    o, ts, liquidity = opening.ask, opening.ts, opening.liquidity
    if order is IntrabarOrder.CONSERVATIVE:
        low_first = position_sign >= 0
    elif order is IntrabarOrder.OPEN_LOW_HIGH_CLOSE:
        low_first = True
    elif order is IntrabarOrder.OPEN_HIGH_LOW_CLOSE:
        low_first = False
    else:
        low_first = (o - low) <= (h - o)
    first, second = (low, h) if low_first else (h, low)
    return [
        PricePoint(ts + interval // 3, first, first, True, liquidity),
        PricePoint(ts + 2 * interval // 3, second, second, True, liquidity),
        PricePoint(ts + interval - 1, c, c, True, liquidity),
    ]


def _levels(pairs: Sequence[tuple[float, float]]) -> list[list]:
    return [[float(p), Decimal(repr(float(q)))] for p, q in pairs]


def quote_point(ts: int, bid: float, ask: float, bid_size: float, ask_size: float) -> PricePoint:
    """One tick: the touch on each side with its size."""
    return PricePoint(ts, bid, ask, False, Liquidity(_levels([(bid, bid_size)]), _levels([(ask, ask_size)]), None))


def book_point(snapshot: BookSnapshot) -> PricePoint:
    """One order-book snapshot with all its levels."""
    return PricePoint(snapshot.ts, snapshot.bids[0][0], snapshot.asks[0][0], False,
                      Liquidity(_levels(snapshot.bids), _levels(snapshot.asks), None))
