"""The one engine: market data -> strategy -> risk gate -> venue -> fills -> positions -> position management.

Backtest, paper and live differ only by the venue and the clock handed in. The venue
drives the loop (``pump`` delivers the next market event) and reports order events to the
engine as they happen; the engine never asks which kind of venue it has.

Per bar, the engine reads the strategy's precomputed signal (signals are recomputed only
when the venue reports a bar beyond those computed, which for a replayed history happens
once), acts on it at the bar's close (orders fill from the next bar on), and, only while a
position is open and only if the policy asks for it, calls the policy. The engine tells the
venue which bar it next needs to hear about (the next signal, or every bar while a watching
policy manages a position); the venue still matches orders on every bar, so a bar with no
signal and nothing resting costs next to nothing. Money is Decimal from the moment an order
is made; floats are only read from the market data on the way in.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Sequence

import numpy as np

from tradeloom.errors import RejectedError
from tradeloom.trading.brackets import Cancel, ManagedPosition, consistency_actions
from tradeloom.trading.clock import Clock
from tradeloom.trading.engine_intents import IntentExecutor
from tradeloom.trading.engine_restore import restore
from tradeloom.trading.events import (
    Fill,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderModified,
    OrderRejected,
)
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.ledger_protocol import Ledger
from tradeloom.trading.metrics import TradeRecord
from tradeloom.trading.orders import OPEN_STATUSES, Order, OrderStatus, Purpose, Side
from tradeloom.trading.policy import EntryRequest, ExitPosition, PositionPolicy, PositionState
from tradeloom.trading.portfolio import Account
from tradeloom.trading.positions import Position
from tradeloom.trading.risk.execution.planner import ExecutionPlanner
from tradeloom.trading.risk_gate import NoRiskLimits, RiskGate
from tradeloom.trading.strategies.base import PositionSide, Strategy
from tradeloom.trading.venue import Venue

ZERO = Decimal(0)
ACCEPTED = OrderStatus.ACCEPTED
_OPEN = OPEN_STATUSES
_FINAL = {OrderCanceled: OrderStatus.CANCELED, OrderRejected: OrderStatus.REJECTED, OrderExpired: OrderStatus.EXPIRED}


def _any_open(orders: list[Order]) -> bool:
    for order in orders:
        if order.status in _OPEN:
            return True
    return False


class Engine(IntentExecutor):
    """Runs one strategy on one instrument against one venue."""

    def __init__(self, strategy: Strategy, instrument: Instrument, venue: Venue, clock: Clock,
                 policy: PositionPolicy, *, cash: Decimal | int | str, gate: RiskGate | None = None,
                 ledger: Ledger | None = None, id_prefix: str | None = None, bar_interval_ns: int | None = None,
                 planner: ExecutionPlanner | None = None) -> None:
        # Client order ids must never repeat across sessions: by default they carry the start time.
        prefix = id_prefix if id_prefix is not None else f"TL{clock.now_ns() // 1_000_000:x}"
        super().__init__(instrument, venue, clock, gate if gate is not None else NoRiskLimits(), ledger, prefix, planner)
        self.strategy = strategy
        self.policy = policy
        self.account = Account(instrument.symbol, instrument.quote, Decimal(cash))
        self.closed_rows: list[tuple] = []  # raw trade rows; TradeRecords are built when asked for
        self.fills: list[Fill] = []
        self._watch = bool(policy.wants_market_data)
        self._entry_of: Position | None = None  # the position whose average entry is in _entry
        self._entry = ZERO
        self._interval = bar_interval_ns
        self._known = 0
        self._sig_entry: Sequence[int] = ()
        self._sig_exit: Sequence[bool] = ()
        self._signal_bars: list[int] = []
        self._ts: Sequence[int] = ()
        self._h: Sequence[float] = ()
        self._l: Sequence[float] = ()
        self._c: Sequence[float] = ()
        venue.connect(self)

    # -- the loop -------------------------------------------------------------------------

    def restore(self) -> list[str]:
        """Reload state from the ledger and reconcile it with the venue before running; returns the findings."""
        if len(self.venue.bars(self.instrument.symbol)):
            self._load(0)
        return restore(self)

    def run(self, until_ns: int | None = None) -> bool:
        """Pump the venue until it has no more market data, or until the clock reaches ``until_ns``.

        Returns False when the venue has no more data, True when stopped by ``until_ns`` (a
        bounded live session: call ``run`` again, or restore a new engine, to carry on).
        """
        pump = self.venue.pump
        if until_ns is None:
            while pump():
                pass
            return False
        now = self.clock.now_ns
        while pump():
            if now() >= until_ns:
                return True
        return False

    def on_market_data(self, symbol: str, index: int) -> None:
        """A bar closed: act on its signal, then let the policy look at the open position."""
        if index >= self._known:
            self._load(index)
        entry = self._sig_entry[index]
        if entry or self._sig_exit[index]:
            self._on_signal(index, entry)
        if self._watch and self.open is not None:
            self.clock.observe(self._ts[index] + self._interval)  # type: ignore[operator]
            mp = self.open
            intents = self.policy.on_market_data(self._state(mp, index, None))
            if intents:
                self.execute_intents(intents, mp, self.instrument.round_price(self._c[index]))

    def next_bar_of_interest(self, symbol: str, after: int) -> int:
        """The next bar with a signal, or every bar while a watching policy manages an open position."""
        following = after + 1
        if following >= self._known or (self._watch and self.open is not None):
            return following
        i = bisect.bisect_left(self._signal_bars, following)
        return self._signal_bars[i] if i < len(self._signal_bars) else self._known

    def _load(self, index: int) -> None:
        bars = self.venue.bars(self.instrument.symbol)
        if index >= len(bars):
            raise RuntimeError(f"venue reported bar {index} but serves only {len(bars)} bars")
        signals = self.strategy.signals(bars)
        # Zero-copy views indexing to Python numbers (no million-element lists to build or for the GC to walk).
        self._sig_entry, self._sig_exit, self._confidence = memoryview(signals.entry), memoryview(signals.exit), signals.confidence
        self._ts, self._h, self._l, self._c = memoryview(bars.ts), memoryview(bars.high), memoryview(bars.low), memoryview(bars.close)
        if self._interval is None:
            self._interval = int((bars.ts[1:] - bars.ts[:-1]).min()) if len(bars) > 1 else 0
        self._signal_bars = np.flatnonzero((signals.entry != 0) | signals.exit).tolist()
        self._known = len(bars)

    # -- signals --------------------------------------------------------------------------

    def _on_signal(self, t: int, entry: int) -> None:
        self.clock.observe(self._ts[t] + self._interval)  # type: ignore[operator]
        held = self.open.side.sign if self.open is not None else self.pending.side.sign if self.pending is not None else 0
        if entry == held:
            return  # never pyramid
        reference = self.instrument.round_price(self._c[t])
        if held:
            self._leave("signal", reference)
        if entry:
            self._enter(t, Side.BUY if entry > 0 else Side.SELL, reference)

    def _leave(self, reason: str, reference: Decimal) -> None:
        if self.pending is not None:
            for order in self.pending.entries:
                if order.is_open:
                    self.venue.cancel(order.client_order_id, reason)
            self.pending = None
        if self.open is not None:
            self.execute_intents((ExitPosition(reason),), self.open, reference)

    def _enter(self, t: int, side: Side, reference: Decimal) -> None:
        confidence = float(self._confidence[t])
        reason = self.strategy.reason(self._strategy_side(side))
        request = EntryRequest(self.instrument.symbol, side, confidence, reference, self.account.equity(reference),
                               self.account.cash, self.instrument, reason, self.clock.now_ns())
        plan = self.policy.plan_entry(request)
        if plan is None:
            return
        quantity = self.instrument.round_quantity(plan.quantity)
        if quantity <= 0:
            return
        self.pending = self.new_position(side)
        self.submit_entry(self.pending, side, quantity, reason, reference, plan.planned_stop)

    @staticmethod
    def _strategy_side(side: Side) -> PositionSide:
        return PositionSide.LONG if side is Side.BUY else PositionSide.SHORT

    # -- venue events ---------------------------------------------------------------------

    def on_order_event(self, event: OrderEvent) -> None:
        """Apply a venue event to our copy of the order, record it, and react."""
        order = self.orders.get(event.client_order_id)
        if order is None:
            return  # not ours (another session's order; reconciliation deals with it)
        kind = type(event)
        if kind is Fill:
            self._on_fill(event, order)  # type: ignore[arg-type]
            return
        if kind is OrderAccepted:
            order.venue_order_id = event.venue_order_id  # type: ignore[union-attr]
            order.transition(ACCEPTED)
        elif kind is OrderModified:
            order.quantity, order.price, order.stop_price = event.quantity, event.price, event.stop_price  # type: ignore[union-attr]
        else:
            self._on_finished(event, order)  # type: ignore[arg-type]
        if self.ledger is not None:
            self.ledger.record_event(event)
            self.ledger.record_order(order)

    def _on_finished(self, event: OrderCanceled | OrderRejected | OrderExpired, order: Order) -> None:
        order.transition(_FINAL[type(event)], event.reason)
        self.open_orders.pop(order.client_order_id, None)
        if type(event) is OrderRejected:
            self.rejections.append((order.client_order_id, event.reason))
        mp = self.order_position.get(order.client_order_id)
        if mp is not None and mp is self.pending and mp.opened_ts < 0 and not any(o.is_open for o in mp.entries):
            self.pending = None  # the entry died without a fill
        if mp is not None and mp is self.open and order.purpose is Purpose.SCALE_OUT:
            self._apply_consistency(mp, abs(self.account.position.quantity))  # the stop covers that part again

    def _on_fill(self, fill: Fill, order: Order) -> None:
        if fill.ts > self.clock.now_ns():  # a fill caught up after a restart may be older than now
            self.clock.observe(fill.ts)
        order.record_fill(fill.quantity, fill.price)
        if order.status not in _OPEN:
            self.open_orders.pop(order.client_order_id, None)
        if self.ledger is not None:
            self.ledger.record_fill(fill)
            self.ledger.record_order(order)
        self.fills.append(fill)
        before = self.account.position
        after = self.account.apply(fill)
        mp = self.order_position[order.client_order_id]
        purpose = order.purpose
        if before.quantity and (before.quantity > 0) != (fill.side is Side.BUY):
            self._record_trade(fill, order, before, after)
        if purpose is Purpose.ENTRY:
            mp.unallocated_entry_fees += fill.fee
            mp.last_entry_price = fill.price
            if mp.opened_ts < 0:
                mp.opened_ts = fill.ts
            if self.pending is mp and not _any_open(mp.entries):
                self.pending = None
        if self.gated:
            self.gate.on_fill(fill, purpose, self.view(fill.price))
        if before.quantity and (not after.quantity or (after.quantity > 0) != (before.quantity > 0)):
            self._close(fill, purpose)  # flat, or flipped through zero
        if not after.quantity:
            return
        if purpose is Purpose.ENTRY and self.open is None:
            self.open = mp
        current = self.open
        if current is None:
            return
        self._apply_consistency(current, abs(after.quantity))
        intents = self.policy.on_fill(self._state(current, -1, fill), fill, purpose)
        if intents:
            self.execute_intents(intents, current, fill.price)

    def _close(self, fill: Fill, purpose: Purpose) -> None:
        """The open position ended: cancel what is left of its exit orders and tell the policy."""
        closed = self.open
        if closed is None:
            return
        self.open = None
        self._apply_consistency(closed, ZERO)
        state = self._state(closed, -1, fill)
        state.quantity = ZERO
        self.policy.on_fill(state, fill, purpose)

    def _apply_consistency(self, mp: ManagedPosition, open_quantity: Decimal) -> None:
        for action in consistency_actions(mp, open_quantity):
            if isinstance(action, Cancel):
                self.venue.cancel(action.order.client_order_id, action.reason)
            else:
                try:
                    self.venue.modify(action.order.client_order_id,
                                      quantity=action.order.filled_quantity + action.remaining)
                except RejectedError as error:
                    self.rejections.append((action.order.client_order_id, str(error)))
        mp.forget_finished()

    def _record_trade(self, fill: Fill, order: Order, before: Position, after: Position) -> None:
        mp = self.order_position[order.client_order_id]
        closing_mp = self.open if self.open is not None else mp
        held = abs(before.quantity)
        closed = min(fill.quantity, held)
        if closed == held:
            entry_fees = closing_mp.unallocated_entry_fees
        else:
            entry_fees = (closing_mp.unallocated_entry_fees * closed / held).quantize(Decimal("1e-12"))
        closing_mp.unallocated_entry_fees -= entry_fees
        exit_fee = fill.fee if closed == fill.quantity else fill.fee * closed / fill.quantity
        realised = after.realised_pnl - before.realised_pnl
        side = Side.BUY if before.quantity > 0 else Side.SELL
        reason = order.reason if order.purpose is not Purpose.ENTRY else "reversal"
        self.closed_rows.append((
            self.instrument.symbol, side, closed, closing_mp.opened_ts, before.average_entry, fill.ts, fill.price,
            realised - exit_fee - entry_fees, exit_fee + entry_fees, reason or order.purpose.value,
        ))  # fmt: skip

    @property
    def trades(self) -> list[TradeRecord]:
        """Closed trades (one per reducing fill: a round trip, or a scale-out), oldest first."""
        return [TradeRecord(*row) for row in self.closed_rows]

    # -- what the policy sees -------------------------------------------------------------

    def _state(self, mp: ManagedPosition, t: int, fill: Fill | None) -> PositionState:
        position = self.account.position
        stop, target = mp.working_stop(), mp.working_take_profit()
        if fill is not None:
            high = low = close = float(fill.price)
            bar = bisect.bisect_right(self._ts, fill.ts) - 1
        else:
            high, low, close, bar = self._h[t], self._l[t], self._c[t], t
        if position.quantity:
            if position is not self._entry_of:  # a watching policy asks every bar; the position changes per fill
                self._entry_of, self._entry = position, position.average_entry
            entry = self._entry
        else:
            entry = mp.last_entry_price
        return PositionState(
            mp.position_id, self.instrument.symbol, mp.side, abs(position.quantity), entry, mp.opened_ts,
            None if stop is None else stop.stop_price, ZERO if stop is None else stop.remaining,
            None if target is None else target.price, mp.pending_exit_quantity(), position.realised_pnl,
            position.fees, bar, high, low, close,
        )  # fmt: skip
