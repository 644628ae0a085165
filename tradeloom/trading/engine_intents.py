"""Execution for the engine: intents become orders, rounded, gated, recorded, then sent.

Every order is made here: prices rounded to the tick in the owner's safe direction (a sell
rounds up, a buy down: limits never worse, stops never looser), quantities down to the lot;
then the risk gate judges it (accept, shrink, refuse); then the ledger records it with its
client order id; only then is it sent to the venue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from tradeloom.errors import RejectedError
from tradeloom.trading.brackets import ManagedPosition
from tradeloom.trading.clock import Clock
from tradeloom.trading.events import OrderSubmitted
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.ledger_protocol import Ledger
from tradeloom.trading.orders import Order, OrderStatus, OrderType, Purpose, Side, TimeInForce
from tradeloom.trading.policy import CancelEntries, ExitPosition, Intent, ScaleOut, SetStop, SetTakeProfit
from tradeloom.trading.portfolio import Account
from tradeloom.trading.risk.execution.planner import ExecutionPlanner
from tradeloom.trading.risk_gate import ACCEPT, AccountView, NoRiskLimits, OrderRequest, RiskGate, Verdict, refuse
from tradeloom.trading.venue import Venue, order_book_of

ZERO = Decimal(0)


class IntentExecutor:
    """Order making, gating and sending, and the bookkeeping of which order belongs to which position."""

    account: Account

    def __init__(self, instrument: Instrument, venue: Venue, clock: Clock, gate: RiskGate, ledger: Ledger | None,
                 id_prefix: str, planner: ExecutionPlanner | None = None) -> None:
        self.instrument, self.venue, self.clock, self.gate, self.ledger = instrument, venue, clock, gate, ledger
        # Without a planner, market orders go as the policy made them (the core's fixed policy).
        self.planner = planner
        # NoRiskLimits accepts everything and learns nothing: skip building its account views.
        self.gated = type(gate) is not NoRiskLimits
        self.id_prefix = id_prefix
        self.orders: dict[str, Order] = {}
        self.open_orders: dict[str, Order] = {}
        self.order_position: dict[str, ManagedPosition] = {}
        self.rejections: list[tuple[str, str]] = []  # (client order id, reason): gate refusals and venue rejections
        self.open: ManagedPosition | None = None  # the position with open quantity
        self.pending: ManagedPosition | None = None  # a position whose entry has not filled yet
        self._order_seq = 0
        self._position_seq = 0

    # -- positions and orders -------------------------------------------------------------

    def continue_numbering(self, orders: int, positions: int) -> None:
        """Make the next ids follow ``orders`` and ``positions`` (after a restart with the same prefix)."""
        self._order_seq = max(self._order_seq, orders)
        self._position_seq = max(self._position_seq, positions)

    def new_position(self, side: Side) -> ManagedPosition:
        """A fresh managed position (not open until its entry fills)."""
        self._position_seq += 1
        pid = f"{self.id_prefix}-P{self._position_seq}"
        return ManagedPosition(pid, side, f"{pid}-OCO")

    def _order(self, mp: ManagedPosition, side: Side, order_type: OrderType, quantity: Decimal, purpose: Purpose,
               reason: str, price: Decimal | None = None, stop: Decimal | None = None, reduce_only: bool = True,
               oco: str | None = None) -> Order:
        self._order_seq += 1
        return Order(f"{self.id_prefix}-{self._order_seq}", self.instrument.symbol, side, order_type, quantity, price,
                     stop, TimeInForce.GTC, False, reduce_only, purpose, oco_group=oco, position_id=mp.position_id,
                     reason=reason, created_ns=self.clock.now_ns())

    def view(self, mark: Decimal) -> AccountView:
        """The account now, marked at ``mark``."""
        symbol = self.instrument.symbol
        account = self.account
        stop = self.open.working_stop() if self.open is not None else None
        stops = {symbol: stop.stop_price} if stop is not None else {}
        return AccountView(self.clock.now_ns(), account.starting_cash, account.cash,
                           account.cash + account.position.quantity * mark, {symbol: account.position}, {symbol: mark},
                           list(self.open_orders.values()), stops)  # type: ignore[dict-item]

    def send(self, order: Order, mp: ManagedPosition, reference: Decimal, planned_stop: Decimal | None = None) -> bool:
        """Plan (market orders, given a planner), gate, record and send ``order``; False if planner or gate refused it.

        The planner counts the plan only when the order is sent or the planner itself refused it:
        an order the gate refuses is not counted by its method (the gate keeps its refusals).
        """
        decision = ACCEPT
        planner = self.planner
        plan = None
        if planner is not None and order.order_type is OrderType.MARKET:
            plan = planner.prepare(order, reference, self.instrument.tick_size, order_book_of(self.venue, order.symbol))
            if plan.refused:
                planner.record(order, plan)
                decision = refuse(f"execution: {plan.reason}")
        if self.gated and decision is ACCEPT:
            decision = self.gate.check(OrderRequest(order, self.instrument, reference, planned_stop), self.view(reference))
        if decision.verdict is Verdict.SHRINK:
            quantity = self.instrument.round_quantity(min(decision.quantity, order.quantity))  # type: ignore[type-var]
            if quantity <= 0:
                decision = refuse(f"{decision.reason} (nothing left after rounding)")
            else:
                order.quantity = quantity
                order.reason = f"{order.reason}; shrunk: {decision.reason}"
        if decision.verdict is Verdict.REFUSE:
            order.transition(OrderStatus.REJECTED, decision.reason)
            self.rejections.append((order.client_order_id, decision.reason))
            if self.ledger is not None:
                self.ledger.record_order(order)
            return False
        if plan is not None and planner is not None:
            planner.record(order, plan)
        self.orders[order.client_order_id] = order
        self.open_orders[order.client_order_id] = order
        self.order_position[order.client_order_id] = mp
        order.transition(OrderStatus.SUBMITTED)
        if self.ledger is not None:
            self.ledger.record_order(order)  # before it leaves: a crash now cannot lose or repeat it
            self.ledger.record_event(OrderSubmitted(order.client_order_id, order.created_ns))
        self.venue.submit(order)
        return True

    def submit_entry(self, mp: ManagedPosition, side: Side, quantity: Decimal, reason: str, reference: Decimal,
                     planned_stop: Decimal | None) -> None:
        """A market entry for ``mp``."""
        order = self._order(mp, side, OrderType.MARKET, quantity, Purpose.ENTRY, reason, reduce_only=False)
        mp.entries.append(order)
        if not self.send(order, mp, reference, planned_stop):
            mp.entries.remove(order)
            if self.pending is mp:
                self.pending = None

    # -- intents --------------------------------------------------------------------------

    def execute_intents(self, intents: Sequence[Intent], mp: ManagedPosition, reference: Decimal) -> None:
        """Turn the policy's intents for ``mp`` into orders, in the order given."""
        for intent in intents:
            kind = type(intent)
            if kind is CancelEntries:
                self._cancel_entries(intent.reason)
                continue
            handler = _HANDLERS.get(kind)
            if handler is None:
                raise TypeError(f"unknown intent {intent!r}")
            open_quantity = abs(self.account.position.quantity) if self.open is mp else ZERO
            if open_quantity > 0:  # else nothing to protect or exit
                handler(self, mp, intent, open_quantity, reference)

    def _exit_side(self, mp: ManagedPosition) -> Side:
        return mp.side.opposite

    def _resting_change(self, order: Order, quantity: Decimal, price: Decimal | None, stop: Decimal | None,
                        reason: str) -> None:
        changes: dict[str, Decimal] = {}
        if quantity != order.remaining:
            changes["quantity"] = order.filled_quantity + quantity
        if price is not None and price != order.price:
            changes["price"] = price
        if stop is not None and stop != order.stop_price:
            changes["stop_price"] = stop
        if not changes:
            return
        try:
            self.venue.modify(order.client_order_id, **changes)
            order.reason = reason
        except RejectedError as error:
            self.rejections.append((order.client_order_id, str(error)))

    def _set_stop(self, mp: ManagedPosition, intent: SetStop, open_quantity: Decimal, reference: Decimal) -> None:
        side = self._exit_side(mp)
        price = self.instrument.safe_price(side.value, intent.price)
        cap = open_quantity - mp.scale_out_quantity()
        wanted = cap if intent.quantity is None else min(intent.quantity, cap)
        quantity = self.instrument.round_quantity(wanted)
        if quantity <= 0:
            return
        stop = mp.working_stop()
        if stop is not None:
            self._resting_change(stop, quantity, None, price, intent.reason)
            return
        order = self._order(mp, side, OrderType.STOP_MARKET, quantity, Purpose.STOP, intent.reason, stop=price,
                            oco=mp.oco_group)
        if self.send(order, mp, reference):
            mp.stop = order

    def _set_take_profit(self, mp: ManagedPosition, intent: SetTakeProfit, open_quantity: Decimal,
                         reference: Decimal) -> None:
        side = self._exit_side(mp)
        price = self.instrument.safe_price(side.value, intent.price)
        wanted = open_quantity if intent.quantity is None else min(intent.quantity, open_quantity)
        quantity = self.instrument.round_quantity(wanted)
        if quantity <= 0:
            return
        target = mp.working_take_profit()
        if target is not None:
            self._resting_change(target, quantity, price, None, intent.reason)
            return
        order = self._order(mp, side, OrderType.LIMIT, quantity, Purpose.TAKE_PROFIT, intent.reason, price=price,
                            oco=mp.oco_group)
        if self.send(order, mp, reference):
            mp.take_profit = order

    def _scale_out(self, mp: ManagedPosition, intent: ScaleOut, open_quantity: Decimal, reference: Decimal) -> None:
        side = self._exit_side(mp)
        room = open_quantity - mp.scale_out_quantity()
        quantity = self.instrument.round_quantity(min(intent.quantity, room))
        if quantity <= 0:
            return
        if intent.price is None:
            order = self._order(mp, side, OrderType.MARKET, quantity, Purpose.SCALE_OUT, intent.reason)
        else:
            price = self.instrument.safe_price(side.value, intent.price)
            order = self._order(mp, side, OrderType.LIMIT, quantity, Purpose.SCALE_OUT, intent.reason, price=price)
        if self.send(order, mp, reference):
            mp.exits.append(order)

    def _exit(self, mp: ManagedPosition, intent: ExitPosition, open_quantity: Decimal, reference: Decimal) -> None:
        if mp.has_working_exit():
            return
        for order in list(mp.exits):
            if order.is_open and order.purpose is Purpose.SCALE_OUT:
                self.venue.cancel(order.client_order_id, f"superseded by exit: {intent.reason}")
        order = self._order(mp, self._exit_side(mp), OrderType.MARKET, open_quantity, Purpose.EXIT, intent.reason)
        if self.send(order, mp, reference):
            mp.exits.append(order)

    def _cancel_entries(self, reason: str) -> None:
        for order in list(self.open_orders.values()):
            if order.purpose is Purpose.ENTRY:
                self.venue.cancel(order.client_order_id, reason)


_HANDLERS = {
    SetStop: IntentExecutor._set_stop,
    SetTakeProfit: IntentExecutor._set_take_profit,
    ScaleOut: IntentExecutor._scale_out,
    ExitPosition: IntentExecutor._exit,
}
