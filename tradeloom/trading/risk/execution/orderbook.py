"""Order-book analysis: spread, liquidity within a band around mid, slippage of a size, a passive entry price."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tradeloom.trading.orders import Side
from tradeloom.trading.risk.increments import ceil_to_step, floor_to_step

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level: ``quantity`` resting at ``price``."""

    price: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class OrderBook:
    """A snapshot: bids best (highest) first, asks best (lowest) first; validated on construction."""

    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]

    def __post_init__(self) -> None:
        if not self.bids or not self.asks:
            raise ValueError("an order book needs at least one bid and one ask")
        for name, levels, better in (("bids", self.bids, 1), ("asks", self.asks, -1)):
            for level in levels:
                if level.price <= 0 or level.quantity <= 0:
                    raise ValueError(f"{name} level {level} must have a positive price and quantity")
            for first, second in zip(levels, levels[1:]):
                if (first.price - second.price) * better <= 0:
                    raise ValueError(f"{name} must be sorted best first without repeats")
        if self.bids[0].price >= self.asks[0].price:
            raise ValueError(f"crossed book: best bid {self.bids[0].price} >= best ask {self.asks[0].price}")

    @property
    def best_bid(self) -> Decimal:
        """The highest bid."""
        return self.bids[0].price

    @property
    def best_ask(self) -> Decimal:
        """The lowest ask."""
        return self.asks[0].price

    @property
    def mid(self) -> Decimal:
        """The mid price."""
        return (self.best_bid + self.best_ask) / 2

    @property
    def spread_pct(self) -> Decimal:
        """The spread in percent of mid."""
        return (self.best_ask - self.best_bid) * HUNDRED / self.mid

    def side_levels(self, side: Side) -> tuple[BookLevel, ...]:
        """The levels an order on ``side`` takes from: asks for a buy, bids for a sell."""
        return self.asks if side is Side.BUY else self.bids


@dataclass(frozen=True)
class SlippageEstimate:
    """What taking ``filled`` (of the wanted size) from the book would cost."""

    average_price: Decimal | None
    worst_price: Decimal | None
    filled: Decimal
    unfilled: Decimal
    slippage_pct: Decimal  # average price against mid, adverse positive; 0 when nothing fills


def depth_within_band(book: OrderBook, band_pct: Decimal) -> Decimal:
    """Quote notional resting within ``band_pct`` percent of mid, both sides."""
    low, high = book.mid * (1 - band_pct / HUNDRED), book.mid * (1 + band_pct / HUNDRED)
    bids = sum((level.price * level.quantity for level in book.bids if level.price >= low), ZERO)
    asks = sum((level.price * level.quantity for level in book.asks if level.price <= high), ZERO)
    return bids + asks


def liquidity_score(book: OrderBook, band_pct: Decimal, target_notional: Decimal) -> Decimal:
    """Depth within the band over ``target_notional``, capped at 1 (1 = liquid enough)."""
    if target_notional <= 0:
        raise ValueError(f"target notional must be positive, got {target_notional}")
    return min(Decimal(1), depth_within_band(book, band_pct) / target_notional)


def expected_slippage(book: OrderBook, side: Side, quantity: Decimal) -> SlippageEstimate:
    """Walk the book to fill ``quantity`` on ``side``: average and worst price, what does not fit."""
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    left, notional, worst = quantity, ZERO, None
    for level in book.side_levels(side):
        if left <= 0:
            break
        take = min(left, level.quantity)
        notional += take * level.price
        left -= take
        worst = level.price
    filled = quantity - left
    if filled == 0:
        return SlippageEstimate(None, None, ZERO, quantity, ZERO)
    average = notional / filled
    slippage = (average - book.mid) * side.sign * HUNDRED / book.mid
    return SlippageEstimate(average, worst, filled, left, slippage)


def optimal_entry_price(book: OrderBook, side: Side, tick_size: Decimal) -> Decimal:
    """A passive limit price: one tick inside the spread when it is wider than two ticks, else the best on our side."""
    if book.best_ask - book.best_bid > 2 * tick_size:
        if side is Side.BUY:
            return floor_to_step(book.best_bid + tick_size, tick_size)
        return ceil_to_step(book.best_ask - tick_size, tick_size)
    return book.best_bid if side is Side.BUY else book.best_ask


def order_book_from_levels(
    bids: Iterable[tuple[float | Decimal, float | Decimal]], asks: Iterable[tuple[float | Decimal, float | Decimal]]
) -> OrderBook | None:
    """An ``OrderBook`` from (price, quantity) levels best first (floats read exactly as printed).

    Levels without a positive quantity are left out; None when a side is then empty or the
    book is locked or crossed (best bid >= best ask), which leaves nothing to analyse.
    """
    def levels(raw: Iterable[tuple[float | Decimal, float | Decimal]]) -> tuple[BookLevel, ...]:
        out = []
        for price, quantity in raw:
            level = BookLevel(_decimal(price), _decimal(quantity))
            if level.quantity > 0:
                out.append(level)
        return tuple(out)

    bid_levels, ask_levels = levels(bids), levels(asks)
    if not bid_levels or not ask_levels or bid_levels[0].price >= ask_levels[0].price:
        return None
    return OrderBook(bid_levels, ask_levels)


def _decimal(value: float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))
