"""Order method selection among market, limit, IOC, FOK and post-only, with the reason recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from tradeloom.trading.orders import Order, OrderStatus, OrderType, Purpose, Side, TimeInForce
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
    """How to send one order: the chosen method (None: refused), its limit price (None for market), and why."""

    method: OrderMethod | None
    price: Decimal | None  # the limit price; None for a market order or a refusal
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

    def apply(self, order: Order) -> None:
        """Give a NEW order this choice's type, time in force, post-only flag and limit price.

        An entry's reason gets the method's reason appended (the ledger records it with the
        order); an exit's reason stays its exit kind, which reports count.
        """
        if order.status is not OrderStatus.NEW:
            raise ValueError(f"order {order.client_order_id} is {order.status.value}; only a NEW order can be planned")
        order.order_type, order.time_in_force, order.post_only = self.order_fields()
        order.price = self.price
        if order.purpose is Purpose.ENTRY:
            order.reason = f"{order.reason}; {self.reason}" if order.reason else self.reason


def post_only_reason(config: ExecutionConfig, side: Side, urgency: Urgency) -> str | None:
    """Why ``side`` goes post-only (its ``*_USE_POST_ONLY`` unless urgent, or a passive strategy); None if not."""
    post_only = config.buy_use_post_only if side is Side.BUY else config.sell_use_post_only
    if post_only and urgency is not Urgency.URGENT:
        return f"{side.value}_USE_POST_ONLY is on"
    if urgency is Urgency.PASSIVE:
        return "the strategy is passive"
    return None


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
    why = post_only_reason(config, side, urgency)
    if why is not None:
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

