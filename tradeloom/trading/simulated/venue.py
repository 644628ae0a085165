"""SimulatedVenue: the Venue protocol over a matching engine that replays bars, quotes or book snapshots."""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Sequence

import numpy as np

from tradeloom.errors import RejectedError
from tradeloom.trading.events import (
    Fill,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderModified,
    OrderRejected,
)
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import Liquidity as Liq
from tradeloom.trading.orders import Order, OrderStatus, OrderType, Side
from tradeloom.trading.risk.execution.orderbook import OrderBook, order_book_from_levels
from tradeloom.trading.simulated.config import VenueConfig
from tradeloom.trading.simulated.market import INF, BookSnapshot, Quotes, bar_open, bar_rest, book_point, quote_point
from tradeloom.trading.simulated.matching import MatchingEngine, Working
from tradeloom.trading.strategies.base import Bars
from tradeloom.trading.venue import VenueListener

ZERO = Decimal(0)
_ACCEPTED = OrderStatus.ACCEPTED


def _bar_interval(bars: Bars, configured: int | None) -> int:
    if configured is not None:
        return configured
    if len(bars) < 2:
        raise ValueError("cannot infer the bar interval from fewer than two bars; set VenueConfig.bar_interval_ns")
    return int((bars.ts[1:] - bars.ts[:-1]).min())


class SimulatedVenue(MatchingEngine):
    """A venue that fills orders against recorded market data as a real exchange would (see the docs)."""

    name = "simulated"

    def __init__(self, instrument: Instrument, data: Bars | Quotes | Sequence[BookSnapshot],
                 config: VenueConfig | None = None, cash: Decimal | int | str = 0) -> None:
        super().__init__(instrument, config or VenueConfig())
        self.supports_oco = self.config.native_oco
        self.symbol = instrument.symbol
        self._listener: VenueListener | None = None
        self._bars: Bars | None = data if isinstance(data, Bars) else None
        self._quotes = data if isinstance(data, Quotes) else None
        self._books = None if self._bars is not None or self._quotes is not None else list(data)
        if self.config.slippage.needs_depth and self._books is None and self._quotes is None:
            raise ValueError(f"{type(self.config.slippage).__name__} slippage needs quotes or order-book snapshots, not bars")
        if self._bars is not None:
            self._interval = _bar_interval(self._bars, self.config.bar_interval_ns) if len(self._bars) else 1
            b = self._bars
            # Zero-copy views that index to Python numbers: no list of a million floats to build,
            # nor for the garbage collector to walk on every full collection.
            self._ts, self._o, self._h, self._l, self._c, self._v = (
                memoryview(b.ts), memoryview(b.open), memoryview(b.high), memoryview(b.low), memoryview(b.close),
                memoryview(b.volume))
            self._n = len(b)
        else:
            self._n = len(self._quotes) if self._quotes is not None else len(self._books)  # type: ignore[arg-type]
        self._t = -1
        self._interest = 0  # the next bar index the listener wants to hear about
        self._events = 0  # order events emitted so far
        self._cash = Decimal(cash)
        self._position = ZERO
        self._orders: dict[str, Working] = {}  # open orders only: finished ones are let go
        self._ids: set[str] = set()  # every client order id ever submitted (no reuse)
        self._fills: list[Fill] = []
        self._order_seq = 0
        self._delay = self.config.latency.delay_ns
        self._fees = self.config.fees

    # -- Venue protocol -------------------------------------------------------------------

    def connect(self, listener: VenueListener) -> None:
        """Send every later event to ``listener``."""
        self._listener = listener

    def bars(self, symbol: str) -> Bars:
        """Every bar this venue replays (a simulation serves its history up front; strategies are causal)."""
        self._check_symbol(symbol)
        if self._bars is None:
            raise ValueError("this simulated venue replays quotes or book snapshots, not bars")
        return self._bars

    def order_book(self, symbol: str) -> OrderBook | None:
        """The current book snapshot as an ``OrderBook``; None on bars or quotes, before the first snapshot, or locked."""
        self._check_symbol(symbol)
        if self._books is None or self._t < 0:
            return None
        snapshot = self._books[self._t]
        return order_book_from_levels(snapshot.bids, snapshot.asks)

    def pump(self) -> bool:
        """Match market events up to the next one the listener wants to hear about, and report it.

        Every bar is matched against the working orders; the listener is told about the bars
        it asked for (``next_bar_of_interest``) and answers order events as they happen.
        False when the data is exhausted.
        """
        if self._bars is None:
            return self._pump_tick()
        listener, n, low, high = self._listener, self._n, self._l, self._h
        working, pending = self.working, self.pending  # mutated in place, never replaced
        t = self._t
        while True:
            if self._dirty:
                self.thresholds()
            down, up, interest = self._down, self._up, self._interest
            # Skip straight to the first bar that reaches a resting order, or to the bar the
            # listener wants; with nothing working the thresholds are -inf/+inf and no bar does.
            t = t + 1 if pending else self._first_reaching(t + 1, min(interest, n), down, up)
            if t >= n:
                self._t = n - 1
                return False
            if (working or pending) and (pending or low[t] <= down or high[t] >= up):
                self._t = t
                events = self._events
                self._match_bar(t)
                if self._events != events and listener is not None:
                    self._interest = listener.next_bar_of_interest(self.symbol, t - 1)
            if t >= self._interest:
                self._t = t
                if listener is not None:
                    listener.on_market_data(self.symbol, t)
                    self._interest = listener.next_bar_of_interest(self.symbol, t)
                return True

    def _first_reaching(self, start: int, stop: int, down: float, up: float) -> int:
        """The first bar in [start, stop) whose low is at or below ``down`` or high at or above ``up``; else stop."""
        if down == -INF and up == INF:
            return stop
        if stop - start <= 32:
            low, high = self._l, self._h
            for i in range(start, stop):
                if low[i] <= down or high[i] >= up:
                    return i
            return stop
        b = self._bars
        reached = b.low[start:stop] <= down  # type: ignore[union-attr]
        reached |= b.high[start:stop] >= up  # type: ignore[union-attr]
        first = int(reached.argmax())  # the first True, or 0 when there is none
        return start + first if reached[first] else stop

    def _pump_tick(self) -> bool:
        t = self._t + 1
        if t >= self._n:
            return False
        self._t = t
        if self.working or self.pending:
            self._match_tick(t)
        if self._listener is not None:
            self._listener.on_market_data(self.symbol, t)
        return True

    def submit(self, order: Order) -> None:
        """Accept ``order`` for matching (a copy is kept) or reject it with the rule it breaks."""
        if order.client_order_id in self._ids:
            raise RejectedError(f"duplicate client order id {order.client_order_id}")
        own = order.copy()
        if own.status is OrderStatus.NEW:
            own.transition(OrderStatus.SUBMITTED)
        if own.status is not OrderStatus.SUBMITTED:
            raise ValueError(f"order {own.client_order_id} is {own.status.value}; only a new order can be submitted")
        w = Working(own, own.created_ns + self._delay())
        self._ids.add(own.client_order_id)
        self._orders[own.client_order_id] = w
        problem = self._problem(own)
        if problem is not None:
            self.reject(w, problem, max(self.current_ts, own.created_ns))
            return
        if self.in_point and w.arrival <= self.current_ts:
            self.working.append(w)
        elif not self.pending or self.pending[-1].arrival <= w.arrival:
            self.pending.append(w)  # the usual case: arrivals in the order sent
        else:
            bisect.insort(self.pending, w, key=lambda x: x.arrival)
        self._dirty = True

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        """Cancel a working or pending order at once; unknown or finished orders are ignored."""
        w = self._orders.get(client_order_id)
        if w is not None and w.order.is_open:
            self.cancel_working(w, reason or "canceled by request", max(self.current_ts, 0))

    def modify(self, client_order_id: str, *, quantity: Decimal | None = None, price: Decimal | None = None,
               stop_price: Decimal | None = None) -> None:
        """Change a working order; RejectedError naming the rule if the change is not allowed."""
        w = self._orders.get(client_order_id)
        if w is None or not w.order.is_open:
            raise RejectedError(f"cannot modify {client_order_id}: no such working order")
        o = w.order
        new_qty = o.quantity if quantity is None else quantity
        if new_qty <= o.filled_quantity:
            raise RejectedError(f"cannot modify {client_order_id}: quantity {new_qty} not above filled {o.filled_quantity}")
        if price is not None and o.order_type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise RejectedError(f"cannot set a limit price on {o.order_type.value} order {client_order_id}")
        if stop_price is not None and o.order_type not in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            raise RejectedError(f"cannot set a stop price on {o.order_type.value} order {client_order_id}")
        trial = o.copy()
        trial.quantity, trial.price = new_qty, o.price if price is None else price
        trial.stop_price = o.stop_price if stop_price is None else stop_price
        problem = self._static_problem(trial)
        if problem is not None:
            raise RejectedError(f"cannot modify {client_order_id}: {problem}")
        o.quantity, o.price, o.stop_price = trial.quantity, trial.price, trial.stop_price
        w.levels()
        if price is not None or stop_price is not None:
            w.resting, w.seen, w.exhausted = False, -1, -1  # re-checked as an aggressor at the next point
        self.touch()
        self._emit(OrderModified(client_order_id, max(self.current_ts, 0), o.quantity, o.price, o.stop_price))

    def open_orders(self) -> list[Order]:
        """Copies of the orders still working or waiting to arrive."""
        return [w.order.copy() for w in (*self.pending, *self.working) if w.order.is_open]

    def balances(self) -> dict[str, Decimal]:
        """Quote cash; for spot also the base currency held."""
        out = {self.instrument.quote: self._cash}
        if self.instrument.kind is InstrumentKind.SPOT:
            out[self.instrument.base] = self._position
        return out

    def positions(self) -> dict[str, Decimal]:
        """Symbol -> signed quantity."""
        return {self.symbol: self._position}

    def fills_since(self, cursor: int) -> tuple[list[Fill], int]:
        """Fills after ``cursor`` (an index into this venue's fill history)."""
        return self._fills[cursor:], len(self._fills)

    # -- market events --------------------------------------------------------------------

    def _match_bar(self, t: int) -> None:
        budget = None
        if self.config.volume_participation is not None:
            budget = self.instrument.round_quantity(Decimal(repr(self._v[t])) * self.config.volume_participation)
        opening = bar_open(self._ts[t], self._o[t], budget)
        self.process_point(opening, self._c[t - 1] if t else self._o[t])
        if not self.working and not (self.pending and self.pending[0].arrival < self._ts[t] + self._interval):
            return  # nothing left that could trade in this bar
        down, up = self.thresholds()
        if self._l[t] > down and self._h[t] < up and not self.pending:
            return  # nothing resting is reached by the rest of the bar
        # The position after the open decides which extreme is the adverse one.
        sign = 1 if self._position > 0 else -1 if self._position < 0 else 0
        price = self._o[t]
        for point in bar_rest(opening, self._interval, self._h[t], self._l[t], self._c[t], self.config.intrabar, sign):
            self.process_point(point, price)
            price = point.ask

    def _match_tick(self, t: int) -> None:
        if self._quotes is not None:
            q = self._quotes
            point = quote_point(int(q.ts[t]), float(q.bid[t]), float(q.ask[t]), float(q.bid_size[t]), float(q.ask_size[t]))
        else:
            point = book_point(self._books[t])  # type: ignore[index]
        self.process_point(point, point.ask)

    # -- rules ----------------------------------------------------------------------------

    def _check_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            raise ValueError(f"this simulated venue trades {self.symbol}, not {symbol}")

    def _static_problem(self, o: Order, last: Decimal | None = None) -> str | None:
        if o.symbol != self.symbol:
            return f"unknown symbol {o.symbol} (this venue trades {self.symbol})"
        if o.stop_price is not None and o.stop_price % self.instrument.tick_size != 0:
            return f"stop price {o.stop_price} is not a multiple of the tick size {self.instrument.tick_size}"
        reference = o.price if o.price is not None else o.stop_price
        if reference is None:
            reference = last if last is not None else self._last_price()
        return self.instrument.order_problem(o.quantity, reference)

    def _last_price(self) -> Decimal | None:
        """The latest market price on the tick grid (None before any data)."""
        if self.in_point:
            return self.instrument.round_price(self.current_price)
        if self._t < 0:
            return None
        if self._bars is not None:
            return self.instrument.round_price(self._c[self._t])
        if self._quotes is not None:
            return self.instrument.round_price((self._quotes.bid[self._t] + self._quotes.ask[self._t]) / 2)
        book = self._books[self._t]  # type: ignore[index]
        return self.instrument.round_price((book.bids[0][0] + book.asks[0][0]) / 2)

    def _problem(self, o: Order) -> str | None:
        last = self._last_price() if o.price is None and o.stop_price is None else None
        problem = self._static_problem(o, last)
        if problem is not None:
            return problem
        pos = self._position
        if o.reduce_only and (pos == 0 or (pos > 0) == (o.side is Side.BUY)):
            return f"reduce-only order would not reduce the position ({pos})"
        if self.instrument.kind is InstrumentKind.SPOT and not o.reduce_only:
            if o.side is Side.SELL and o.quantity > pos:
                return f"spot: cannot sell {o.quantity} {self.instrument.base}, holding {pos}"
            reference = o.price if o.price is not None else o.stop_price
            if reference is None:
                reference = last
            if o.side is Side.BUY and reference is not None:
                need = o.quantity * reference * (1 + self.config.fees.taker)
                if need > self._cash:
                    return f"insufficient funds: need {need} {self.instrument.quote}, have {self._cash}"
        return None

    # -- hooks for the matching engine ----------------------------------------------------

    def _emit(self, event: OrderEvent) -> None:
        self._events += 1
        if self._listener is not None:
            self._listener.on_order_event(event)

    def accept(self, w: Working, ts: int) -> None:  # type: ignore[override]
        """The order arrived and passed the checks made at arrival."""
        o = w.order
        self._order_seq += 1
        o.venue_order_id = f"SIM-{self._order_seq}"
        o.transition(_ACCEPTED)
        self._emit(OrderAccepted(o.client_order_id, o.venue_order_id, ts))

    def reject(self, w: Working, reason: str, ts: int) -> None:  # type: ignore[override]
        """Refuse the order with ``reason``."""
        self._drop(w)
        w.order.transition(OrderStatus.REJECTED, reason)
        self._emit(OrderRejected(w.order.client_order_id, ts, reason))

    def cancel_working(self, w: Working, reason: str, ts: int) -> None:  # type: ignore[override]
        """Stop the order working."""
        self._drop(w)
        w.order.transition(OrderStatus.CANCELED, reason)
        self._emit(OrderCanceled(w.order.client_order_id, ts, reason))

    def expire(self, w: Working, reason: str, ts: int) -> None:  # type: ignore[override]
        """The order's time ran out."""
        self._drop(w)
        w.order.transition(OrderStatus.EXPIRED, reason)
        self._emit(OrderExpired(w.order.client_order_id, ts, reason))

    def _drop(self, w: Working) -> None:
        self._orders.pop(w.order.client_order_id, None)
        if w in self.working:
            self.working.remove(w)
        elif w in self.pending:
            self.pending.remove(w)
        self.touch()

    def fillable(self, w: Working, ts: int) -> Decimal:  # type: ignore[override]
        """How much of ``w`` may fill now: reduce-only and spot holdings cap it (0 cancels it)."""
        o = w.order
        want = o.remaining
        pos = self._position
        if o.reduce_only:
            reducible = -pos if o.side is Side.BUY else pos
            if reducible <= 0:
                self.cancel_working(w, "reduce-only: no position left to reduce", ts)
                return ZERO
            return min(want, reducible)
        if self.instrument.kind is InstrumentKind.SPOT and o.side is Side.SELL:
            if pos <= 0:
                self.cancel_working(w, "spot: nothing left to sell", ts)
                return ZERO
            return min(want, pos)
        return want

    def execute(self, w: Working, chunks: list[tuple[Decimal, Decimal]], liquidity: Liq, ts: int,  # type: ignore[override]
                taker: bool) -> None:
        """Book the fills of ``w`` and report them; then apply OCO and reduce-only consequences."""
        o = w.order
        for price, qty in chunks:
            if not o.is_open:  # the listener canceled it between two chunks
                break
            fee = self._fees.fee(price * qty, liquidity)
            o.record_fill(qty, price)
            signed = qty if o.side is Side.BUY else -qty
            self._cash -= signed * price + fee
            self._position += signed
            fill = Fill(f"{o.venue_order_id}-{len(self._fills) + 1}", o.client_order_id, o.venue_order_id or "",
                        self.symbol, o.side, price, qty, fee, self.instrument.quote, liquidity, ts)
            self._fills.append(fill)
            if not o.is_open:
                self._drop(w)
            self._emit(fill)
        if o.is_open and o.reduce_only and ((self._position <= 0) if o.side is Side.SELL else (self._position >= 0)):
            self.cancel_working(w, "reduce-only remainder canceled: position closed", ts)
        if o.status is OrderStatus.FILLED and o.oco_group is not None and self.config.native_oco:
            for sibling in [x for x in (*self.working, *self.pending) if x.order.oco_group == o.oco_group]:
                if sibling.order.is_open:
                    self.cancel_working(sibling, f"OCO: sibling {o.client_order_id} filled", ts)
