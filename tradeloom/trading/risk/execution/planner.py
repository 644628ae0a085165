"""The execution planner: how each entry and market exit is sent.

The engine's executor asks ``plan_execution`` (or an ``ExecutionPlanner``) for every order it
would otherwise send at market: entries, scale-outs and full exits. The answer (a ``MethodChoice``)
is the order type, time in force, post-only flag and limit price, or a refusal, always with
the reason. The executor records a plan with the planner only once the order is sent (or
the planner refused it), so ``methods_used`` counts what really went out.

- With an order book (``OrderBookSource`` venues), the method comes from the book analysis
  (``select_order_method``): low liquidity avoids market orders, post-only when
  ``BUY_/SELL_USE_POST_ONLY`` is on and the order is not urgent, fill-or-kill when all or
  none is wanted, and a market order expected to slip beyond ``SLIPPAGE_TOLERANCE`` is
  converted to a limit or refused, by setting.
- Without a book: market ("no order book at the venue"), except a post-only limit at the
  reference price when ``BUY_/SELL_USE_POST_ONLY`` is on (or the strategy is passive), and a
  fill-or-kill bounded by the tolerance when all or none is wanted.
- Protective exits (stops and full exits) when urgent, which is their default, always go at
  market: never refused, never converted, never post-only; the book's estimate is stated
  in the reason (a caller may pass a lower urgency for an exit that can wait).
- Only entries can be refused; another order that would be refused is converted instead (a
  refused scale-out would lose its level).
- Every limit price is bounded by the tolerance from the reference price.

Fills are judged against their order's reference price by the risk gate, which sees every order.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from decimal import Decimal

from tradeloom.trading.orders import Order, OrderType, Purpose, Side
from tradeloom.trading.risk.execution.method import (
    ExecutionConfig,
    MethodChoice,
    OrderMethod,
    Urgency,
    post_only_reason,
    select_order_method,
)
from tradeloom.trading.risk.execution.orderbook import OrderBook, expected_slippage
from tradeloom.trading.risk.execution.slippage import SlippageTolerance
from tradeloom.trading.risk.increments import ceil_to_step, floor_to_step

PROTECTIVE = frozenset({Purpose.STOP, Purpose.EXIT})
NO_BOOK = "no order book at the venue"
REFUSED = "refused"  # what ``methods_used`` counts a refused plan as


def default_urgency(purpose: Purpose) -> Urgency:
    """Protective exits (stops, full exits) are urgent; entries, scale-outs and take-profits normal."""
    return Urgency.URGENT if purpose in PROTECTIVE else Urgency.NORMAL


def _at_reference(side: Side, reference: Decimal, tick_size: Decimal) -> Decimal:
    """The reference on the tick grid, never worse for us: a buy rounds down, a sell up."""
    return floor_to_step(reference, tick_size) if side is Side.BUY else ceil_to_step(reference, tick_size)


def _protective(tolerance: SlippageTolerance, side: Side, quantity: Decimal, purpose: Purpose,
                book: OrderBook | None) -> MethodChoice:
    why = f"market: a protective {purpose.value} is never refused or converted"
    if book is None:
        return MethodChoice(OrderMethod.MARKET, None, f"{why}; {NO_BOOK}")
    estimate = expected_slippage(book, side, quantity)
    if estimate.unfilled > 0:
        return MethodChoice(OrderMethod.MARKET, None, f"{why}; the book lacks {estimate.unfilled}")
    where = "exceeds" if estimate.slippage_pct > tolerance.tolerance_pct else "within"
    return MethodChoice(OrderMethod.MARKET, None, f"{why}; expected slippage {estimate.slippage_pct:.3f}% "
                                                  f"{where} the tolerance {tolerance.tolerance_pct}%")


def _without_book(config: ExecutionConfig, side: Side, reference: Decimal, tick_size: Decimal, urgency: Urgency,
                  all_or_none: bool) -> MethodChoice:
    why = post_only_reason(config, side, urgency)
    if why is not None:
        price = _at_reference(side, reference, tick_size)
        return MethodChoice(OrderMethod.POST_ONLY, price, f"post-only at the reference {price}: {why}; {NO_BOOK}")
    if all_or_none:
        bound = config.slippage.worst_price(side, reference, tick_size)
        return MethodChoice(OrderMethod.FOK, bound, f"fill-or-kill: all or none wanted, {NO_BOOK}, bounded at {bound}")
    return MethodChoice(OrderMethod.MARKET, None, f"market: {NO_BOOK}")


def plan_execution(
    config: ExecutionConfig,
    side: Side,
    quantity: Decimal,
    purpose: Purpose,
    reference: Decimal,
    tick_size: Decimal,
    urgency: Urgency | None = None,
    book: OrderBook | None = None,
    all_or_none: bool = False,
) -> MethodChoice:
    """How to send ``quantity`` on ``side`` for ``purpose``, from the book if there is one (see the module doc)."""
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    if reference <= 0:
        raise ValueError(f"reference price must be positive, got {reference}")
    if tick_size <= 0:
        raise ValueError(f"tick size must be positive, got {tick_size}")
    urgency = default_urgency(purpose) if urgency is None else urgency
    tolerance = config.slippage
    if purpose in PROTECTIVE and urgency is Urgency.URGENT:
        return _protective(tolerance, side, quantity, purpose, book)
    if book is None:
        plan = _without_book(config, side, reference, tick_size, urgency, all_or_none)
    else:
        plan = select_order_method(config, book, side, quantity, tick_size, urgency, all_or_none)
        if plan.refused and purpose is not Purpose.ENTRY:
            bound = tolerance.worst_price(side, book.mid, tick_size)
            why = plan.reason.removeprefix("refused: ")
            plan = MethodChoice(OrderMethod.LIMIT, bound,
                                 f"{why}: a {purpose.value} is converted to a limit at {bound}, not refused")
    if plan.price is not None:
        bounded = tolerance.bound_limit(side, reference, plan.price, tick_size)
        if bounded != plan.price:
            why = f"limit {plan.price} bounded at {bounded} by the {tolerance.tolerance_pct}% tolerance"
            plan = MethodChoice(plan.method, bounded, f"{plan.reason}; {why} from the reference {reference}")
    return plan


@dataclass(frozen=True)
class PlannedOrder:
    """The plan of one order the executor sent or the planner refused, as the planner keeps it for inspection.

    The ledger gets the plan through the order itself: its type, time in force, post-only flag
    and limit price, and for an entry the method's reason appended to the order's reason.
    """

    client_order_id: str
    purpose: Purpose
    method: str  # an ``OrderMethod`` value, or "refused"
    reason: str


class ExecutionPlanner:
    """Plans the engine's market orders; counts every recorded plan's method, keeps the newest ``keep`` plans.

    ``prepare`` plans (and applies the plan to the order) without recording it: the executor
    calls ``record`` once the order is really sent, or when the planner refused it, so an
    order the risk gate refuses afterwards is not counted as sent by its method.
    """

    def __init__(self, config: ExecutionConfig, keep: int = 10_000) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.config, self.keep = config, keep
        self.plans: deque[PlannedOrder] = deque(maxlen=keep)  # the newest recorded plans, oldest first
        self.method_counts: Counter[str] = Counter()  # every recorded plan of the run, by method

    def prepare(self, order: Order, reference: Decimal, tick_size: Decimal, book: OrderBook | None = None,
                urgency: Urgency | None = None, all_or_none: bool = False) -> MethodChoice:
        """Plan a NEW market ``order`` and apply the plan to it unless refused; nothing is recorded."""
        if order.order_type is not OrderType.MARKET:
            raise ValueError(f"order {order.client_order_id} is {order.order_type.value}; only market orders are planned")
        plan = plan_execution(self.config, order.side, order.quantity, order.purpose, reference, tick_size, urgency,
                              book, all_or_none)
        if not plan.refused:
            plan.apply(order)
        return plan

    def record(self, order: Order, plan: MethodChoice) -> None:
        """Count ``plan`` (made by ``prepare`` for ``order``) and keep it among the newest plans."""
        method = REFUSED if plan.method is None else plan.method.value
        self.method_counts[method] += 1
        self.plans.append(PlannedOrder(order.client_order_id, order.purpose, method, plan.reason))

    def methods_used(self) -> dict[str, int]:
        """How many recorded plans of the whole run chose each method (or were refused), most frequent first."""
        return dict(sorted(self.method_counts.items(), key=lambda item: (-item[1], item[0])))
