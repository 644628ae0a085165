"""The one risk gate every order passes: precision, notional limits, order rate, reduce-only, state, heat.

It also hears every fill: a market order's fill further from its reference price than the
slippage tolerance is flagged (``flagged_fills``), and stop-outs at a loss feed the breakers.

Orders that only reduce exposure (protective stops, scale-outs, exits) are checked for
precision and for really reducing; they are never refused for size limits, rate, trading
state or heat, because refusing them would leave risk open. Orders that add exposure pass
every check; an entry that does not fit the heat caps is shrunk (whole lots) or refused.
Every refusal carries its reason and is kept in ``refusals``. Given a bar window, the gate
keeps the correlation clusters of the symbols it knows current itself (``ClusterWatch``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from tradeloom.trading.events import Fill
from tradeloom.trading.orders import Order, OrderType, Purpose
from tradeloom.trading.positions import Position
from tradeloom.trading.risk.breakers import CircuitBreakers, TradingState
from tradeloom.trading.risk.clusters import ClusterWatch
from tradeloom.trading.risk.execution.slippage import SlippageTolerance, fill_quality
from tradeloom.trading.risk.heat import HeatBook, HeatConfig, fit_entry, loss_to_stop
from tradeloom.trading.risk_gate import ACCEPT, AccountView, OrderRequest, RiskDecision, Verdict, refuse, shrink

if TYPE_CHECKING:  # protection_policy imports this module's configuration: no import at run time
    from tradeloom.trading.risk.protection_policy import BarWindow

SECOND_NS = 10**9


@dataclass(frozen=True)
class GateConfig:
    """Limits of the gate; ``max_order_notional`` 0 and ``max_orders_per_window`` 0 turn those checks off."""

    max_order_notional: Decimal = Decimal(0)
    max_orders_per_window: int = 30
    order_rate_window_s: int = 60
    heat: HeatConfig = field(default_factory=HeatConfig)
    slippage: SlippageTolerance = field(default_factory=SlippageTolerance)

    def __post_init__(self) -> None:
        if self.max_order_notional < 0 or self.max_orders_per_window < 0 or self.order_rate_window_s <= 0:
            raise ValueError("gate limits must be >= 0 and the order-rate window positive")


@dataclass(frozen=True)
class Refusal:
    """An order the gate refused (or shrank), when and why."""

    ts: int
    client_order_id: str
    symbol: str
    reason: str


@dataclass(frozen=True)
class FlaggedFill:
    """A fill that landed further from its reference price than the slippage tolerance allows."""

    ts: int
    client_order_id: str
    symbol: str
    reference: Decimal
    price: Decimal
    slippage_pct: Decimal


def reduces_exposure(order: Order, position: Position | None) -> bool:
    """True when ``order`` can only bring the position in its symbol closer to flat."""
    if position is None or position.quantity == 0:
        return False
    opposite = (position.quantity > 0) != (order.side.sign > 0)
    return opposite and order.quantity <= abs(position.quantity)


class RiskLimitsGate:
    """The risk gate of the engine (implements ``tradeloom.trading.risk_gate.RiskGate``).

    With ``bars``, entries are judged against the correlation clusters of every symbol the
    gate knows (recomputed on the breakers' clock at most once per refresh period, or when a
    new symbol shows up); without, no symbol is in a cluster.
    """

    def __init__(self, config: GateConfig, breakers: CircuitBreakers, bars: BarWindow | None = None) -> None:
        self.config, self.breakers = config, breakers
        self.cluster_watch = ClusterWatch(config.heat, bars, breakers.clock) if bars is not None else None
        self.refusals: deque[Refusal] = deque(maxlen=10_000)
        self.flagged_fills: deque[FlaggedFill] = deque(maxlen=10_000)  # the newest, for reports
        self.flagged_count = 0  # all of them
        self._references: dict[str, Decimal] = {}  # market orders' reference prices, the newest 10,000
        self._sent: deque[int] = deque()
        self._planned_stops: dict[str, Decimal] = {}
        self._entries: dict[str, Decimal] = {}
        self._heat_book = HeatBook()
        self._heat_seen: dict[str, tuple[Position, Decimal | None]] = {}
        self._heat_positions: dict[str, Position] = {}
        self._heat_stops: dict[str, Decimal] = {}
        self._heat_version = -1
        self._planned_version = 0

    @property
    def clusters(self) -> Mapping[str, frozenset[str]]:
        """The correlation clusters of the last entry check (empty without a bar window)."""
        return self.cluster_watch.clusters if self.cluster_watch is not None else {}

    def check(self, request: OrderRequest, account: AccountView) -> RiskDecision:
        """Accept, shrink or refuse ``request`` against every rule, in a fixed order."""
        self.breakers.update(account.equity)
        order, instrument = request.order, request.instrument
        self._remember_entry(account.positions.get(order.symbol))
        problem = self._precision_problem(request)
        if problem is not None:
            return self._refuse(account.ts, order, problem)
        if order.order_type is OrderType.MARKET:
            self._remember_reference(order.client_order_id, request.reference_price)
        reducing = reduces_exposure(order, account.positions.get(order.symbol))
        if order.reduce_only and not reducing:
            return self._refuse(account.ts, order, "reduce-only order would open or increase a position")
        if reducing:
            self._observe_symbol(order.symbol, account)
            return ACCEPT
        price = order.price or order.stop_price or request.reference_price
        notional = order.quantity * price
        if notional < instrument.min_notional:
            return self._refuse(account.ts, order, f"notional {notional} is below the minimum notional {instrument.min_notional}")
        if instrument.max_notional is not None and notional > instrument.max_notional:
            return self._refuse(account.ts, order, f"notional {notional} is above {order.symbol}'s maximum notional "
                                                   f"{instrument.max_notional}")
        if instrument.min_quantity is not None and order.quantity < instrument.min_quantity:
            return self._refuse(account.ts, order, f"quantity {order.quantity} is below {order.symbol}'s minimum "
                                                   f"quantity {instrument.min_quantity}")
        limit = self.config.max_order_notional
        if limit > 0 and notional > limit:
            return self._refuse(account.ts, order, f"notional {notional} is above the maximum order notional {limit}")
        if self.breakers.state is not TradingState.ACTIVE:
            return self._refuse(account.ts, order, f"trading state {self.breakers.state.value}: {self.breakers.reason}")
        if self._rate_exceeded(account.ts):
            return self._refuse(account.ts, order, f"order rate above {self.config.max_orders_per_window} "
                                                   f"per {self.config.order_rate_window_s}s")
        decision = self._heat(request, account, price)
        if decision.verdict is not Verdict.REFUSE:
            self._sent.append(account.ts)
            if request.planned_stop is not None and self._planned_stops.get(order.symbol) != request.planned_stop:
                self._planned_stops[order.symbol] = request.planned_stop
                held = account.positions.get(order.symbol)
                if held is not None and held.quantity != 0 and order.symbol not in account.protective_stops:
                    self._planned_version += 1  # the planned stop stands in for a missing working stop
        return decision

    def on_fill(self, fill: Fill, purpose: Purpose, account: AccountView) -> None:
        """Flag fills beyond the slippage tolerance, count stop-outs at a loss, re-evaluate the breakers."""
        reference = self._references.get(fill.client_order_id)
        if reference is not None:
            quality = fill_quality(self.config.slippage, fill.side, reference, fill.price)
            if quality.flagged:
                self.flagged_count += 1
                self.flagged_fills.append(FlaggedFill(fill.ts, fill.client_order_id, fill.symbol, reference,
                                                      fill.price, quality.slippage_pct))
        if purpose is Purpose.STOP:
            entry = self._entries.get(fill.symbol)
            position_sign = -fill.side.sign
            if entry is not None and (fill.price - entry) * position_sign < 0:
                self.breakers.record_stop_out()
        self._remember_entry(account.positions.get(fill.symbol))
        self._observe_symbol(fill.symbol, account)  # a gate shared by engines learns each one's risk
        self.breakers.update(account.equity)

    def open_risk(self, account: AccountView) -> HeatBook:
        """Heat of the account: loss to the working (or planned) stop of each open position.

        Kept incrementally: a symbol whose position object and stop are unchanged since the
        last look is not recomputed (positions are immutable folds, replaced on every fill).
        A symbol missing from this view keeps the risk last seen for it, so a gate shared by
        several single-instrument engines (each view carries its own symbol, flat or not) sums
        the heat of all of them; a missing symbol can only make the estimate more cautious.
        """
        book = self._heat_book
        stops, planned = account.protective_stops, self._planned_stops
        if (self._heat_version == self._planned_version and self._heat_positions == account.positions
                and self._heat_stops == stops):
            return book  # dict equality runs in C and short-cuts on identical values: nothing changed
        self._heat_positions, self._heat_stops = dict(account.positions), dict(stops)
        self._heat_version = self._planned_version
        for symbol, position in account.positions.items():
            self._observe(symbol, position, stops.get(symbol) or planned.get(symbol))
        return book

    def _observe(self, symbol: str, position: Position | None, stop: Decimal | None) -> None:
        """Bring one symbol's open risk up to date (skipped when its position and stop are the ones seen)."""
        seen = self._heat_seen
        last = seen.get(symbol)
        if position is None or (last is not None and last[0] is position and last[1] is stop):
            return
        seen[symbol] = (position, stop)
        if stop is None or position.quantity == 0:
            self._heat_book.remove(symbol)
            return
        entry = position.cost / position.quantity
        sign = 1 if position.quantity > 0 else -1
        self._heat_book.set(symbol, symbol, loss_to_stop(sign, entry, stop, abs(position.quantity)))

    def _observe_symbol(self, symbol: str, account: AccountView) -> None:
        stop = account.protective_stops.get(symbol) or self._planned_stops.get(symbol)
        self._observe(symbol, account.positions.get(symbol), stop)

    def _heat(self, request: OrderRequest, account: AccountView, price: Decimal) -> RiskDecision:
        order = request.order
        if request.planned_stop is None:
            return self._refuse(account.ts, order, "an entry without a planned stop has no bounded risk")
        proposed = order.quantity * abs(price - request.planned_stop)
        book = self.open_risk(account)  # after it, every symbol the gate has heard of is in _heat_seen
        watch = self.cluster_watch
        clusters = watch.current(self._heat_seen.keys(), order.symbol) if watch is not None else None
        fit = fit_entry(book, self.config.heat, account.equity, order.symbol, proposed, clusters)
        if fit.refused:
            return self._refuse(account.ts, order, fit.reason or "no heat left")
        if fit.shrunk:
            quantity = fit.quantity(order.quantity, request.instrument.lot_size)
            if quantity <= 0:
                return self._refuse(account.ts, order, f"{fit.reason}; less than one lot fits")
            self.refusals.append(Refusal(account.ts, order.client_order_id, order.symbol, fit.reason or "shrunk"))
            return shrink(quantity, fit.reason or "shrunk to fit the heat cap")
        return ACCEPT

    def _precision_problem(self, request: OrderRequest) -> str | None:
        order, instrument = request.order, request.instrument
        if order.quantity <= 0:
            return f"quantity {order.quantity} must be positive"
        if order.quantity % instrument.lot_size != 0:
            return f"quantity {order.quantity} is not a multiple of the lot size {instrument.lot_size}"
        for name, price in (("price", order.price), ("stop price", order.stop_price)):
            if price is not None and (price <= 0 or price % instrument.tick_size != 0):
                return f"{name} {price} is not a positive multiple of the tick size {instrument.tick_size}"
        if order.order_type is OrderType.MARKET and request.reference_price <= 0:
            return f"reference price {request.reference_price} must be positive"
        return None

    def _rate_exceeded(self, now: int) -> bool:
        limit = self.config.max_orders_per_window
        if limit == 0:
            return False
        window = self.config.order_rate_window_s * SECOND_NS
        while self._sent and self._sent[0] <= now - window:
            self._sent.popleft()
        return len(self._sent) >= limit

    def _remember_reference(self, client_order_id: str, reference: Decimal) -> None:
        references = self._references
        references[client_order_id] = reference
        if len(references) > 10_000:
            del references[next(iter(references))]  # dicts keep insertion order: drop the oldest

    def _remember_entry(self, position: Position | None) -> None:
        """Keep the entry of a position while it is open, to judge its stop fill after it closed."""
        if position is not None and position.quantity != 0:
            self._entries[position.symbol] = position.cost / position.quantity

    def _refuse(self, ts: int, order: Order, reason: str) -> RiskDecision:
        self.refusals.append(Refusal(ts, order.client_order_id, order.symbol, reason))
        return refuse(reason)
