"""Order method selection among market, limit, IOC, FOK and post-only, with the reason recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from tradeloom.trading.orders import Order, OrderType, Purpose, Side, TimeInForce
from tradeloom.trading.risk.execution.orderbook import (
    OrderBook,
    expected_slippage,
    liquidity_score,
    optimal_entry_price,
)
from tradeloom.trading.risk.execution.slippage import SlippageTolerance, guard_market_order


class OrderMethod(str, Enum):
    """How an order is sent."""

    MARKET = "market"
    LIMIT = "limit"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class Urgency(str, Enum):
    """How much the strategy (or the exit) cares about getting filled now."""

    PASSIVE = "passive"
    NORMAL = "normal"
    URGENT = "urgent"


_ORDER_FIELDS = {
    OrderMethod.MARKET: (OrderType.MARKET, TimeInForce.GTC, False),
    OrderMethod.LIMIT: (OrderType.LIMIT, TimeInForce.GTC, False),
    OrderMethod.IOC: (OrderType.LIMIT, TimeInForce.IOC, False),
    OrderMethod.FOK: (OrderType.LIMIT, TimeInForce.FOK, False),
    OrderMethod.POST_ONLY: (OrderType.LIMIT, TimeInForce.GTC, True),
}


@dataclass(frozen=True)
class ExecutionConfig:
    """Settings of method selection."""

    buy_use_post_only: bool = False
    sell_use_post_only: bool = False
    band_pct: Decimal = Decimal("0.5")
    target_depth_notional: Decimal = Decimal(50_000)
    min_liquidity_score: Decimal = Decimal("0.3")
    slippage: SlippageTolerance = field(default_factory=SlippageTolerance)


@dataclass(frozen=True)
class MethodChoice:
    """The chosen method (None: refused), its limit price, and why."""

    method: OrderMethod | None
    limit_price: Decimal | None
    reason: str

    @property
    def refused(self) -> bool:
        """True when no order should be sent."""
        return self.method is None

    def order_fields(self) -> tuple[OrderType, TimeInForce, bool]:
        """Order type, time in force and post-only flag for an ``Order``."""
        if self.method is None:
            raise ValueError(f"a refused choice has no order fields: {self.reason}")
        return _ORDER_FIELDS[self.method]


def select_order_method(
    config: ExecutionConfig,
    book: OrderBook,
    side: Side,
    quantity: Decimal,
    tick_size: Decimal,
    urgency: Urgency = Urgency.NORMAL,
    all_or_none: bool = False,
) -> MethodChoice:
    """Pick the method for ``quantity`` on ``side`` from the book, the strategy's urgency and the settings."""
    tolerance = config.slippage
    bound = tolerance.worst_price(side, book.mid, tick_size)
    post_only = config.buy_use_post_only if side is Side.BUY else config.sell_use_post_only
    if urgency is Urgency.PASSIVE or (post_only and urgency is not Urgency.URGENT):
        why = f"{side.value.upper()}_USE_POST_ONLY is on" if post_only else "the strategy is passive"
        return MethodChoice(OrderMethod.POST_ONLY, optimal_entry_price(book, side, tick_size), f"post-only: {why}")
    estimate = expected_slippage(book, side, quantity)
    if all_or_none:
        depth = "the book holds it" if estimate.unfilled == 0 else f"the book lacks {estimate.unfilled}"
        return MethodChoice(OrderMethod.FOK, bound, f"fill-or-kill: all or none wanted, {depth}, bounded at {bound}")
    score = liquidity_score(book, config.band_pct, config.target_depth_notional)
    if score < config.min_liquidity_score:
        why = f"low liquidity (score {score:.2f} < {config.min_liquidity_score}) avoids a market order"
        if urgency is Urgency.URGENT:
            return MethodChoice(OrderMethod.IOC, bound, f"{why}: IOC bounded at {bound}")
        return MethodChoice(OrderMethod.LIMIT, optimal_entry_price(book, side, tick_size), f"{why}: passive limit")
    slippage = estimate.slippage_pct if estimate.unfilled == 0 else Decimal("Infinity")
    guard = guard_market_order(tolerance, side, book.mid, slippage, tick_size)
    if guard.action == "send":
        return MethodChoice(OrderMethod.MARKET, None, f"market: liquid (score {score:.2f}), {guard.reason}")
    if guard.action == "convert":
        return MethodChoice(OrderMethod.LIMIT, guard.limit_price, guard.reason)
    return MethodChoice(None, None, f"refused: {guard.reason}")


def order_from_choice(
    choice: MethodChoice,
    client_order_id: str,
    symbol: str,
    side: Side,
    quantity: Decimal,
    purpose: Purpose = Purpose.ENTRY,
    reason: str = "",
    reduce_only: bool = False,
) -> Order:
    """A NEW order carrying the chosen method, with the method's reason recorded after ``reason``."""
    order_type, time_in_force, post_only = choice.order_fields()
    why = f"{reason}; {choice.reason}" if reason else choice.reason
    return Order(client_order_id, symbol, side, order_type, quantity, price=choice.limit_price,
                 time_in_force=time_in_force, post_only=post_only, reduce_only=reduce_only, purpose=purpose, reason=why)
