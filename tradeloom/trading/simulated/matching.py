"""The matching engine: which of our working orders trade at a market point, at what price and size.

Rules (the full list is in docs/simulation-assumptions.md):

- An order becomes *active* at the first point stamped at or after its arrival. When it
  becomes active it is checked once as an aggressor at the current price: a market order
  takes liquidity; a limit that is marketable takes liquidity up to its limit (a post-only
  one is rejected instead); a stop whose price is already reached triggers.
- Afterwards a limit order *rests*. It fills only when the price trades strictly through
  it (touching is not enough: our place in the queue is unknown), at its limit price, as
  maker. A bar that opens through a resting limit fills it at the open (the better price).
- A resting stop triggers when the price reaches it (touching is enough). Within a bar it
  fills at the stop price; when the bar opens through it (a gap) it fills at the open.
  A triggered STOP_LIMIT becomes a limit order checked as an aggressor at that moment.
- Within a bar, price moves continuously open -> first extreme -> second extreme -> close;
  orders hit on one leg trade in the order the price reaches them; orders at one price
  trade in time priority. IOC takes what it can and cancels the rest; FOK trades only if
  the whole remaining quantity is available at once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from tradeloom.trading.instrument import Instrument
from tradeloom.trading.orders import Liquidity as Liq
from tradeloom.trading.orders import OPEN_STATUSES, Order, OrderStatus, OrderType, Side, TimeInForce
from tradeloom.trading.simulated.config import VenueConfig
from tradeloom.trading.simulated.market import INF, PricePoint

MAX_STEPS_PER_POINT = 10_000
_LIMIT, _STOP_MARKET, _STOP_LIMIT = OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT
_OPEN = OPEN_STATUSES


class Working:
    """Matching state of one order at the venue."""

    __slots__ = ("order", "arrival", "resting", "triggered", "seen", "exhausted", "stop_waiting", "limit_like",
                 "stop_level", "limit_level")

    def __init__(self, order: Order, arrival: int) -> None:
        self.order = order
        self.arrival = arrival
        self.resting = False  # checked once as an aggressor already
        self.triggered = False  # a stop whose price was reached
        self.seen = -1  # point number of its last aggressor check
        self.exhausted = -1  # point number at which no liquidity was left for it
        kind = order.order_type
        self.stop_waiting = kind is _STOP_MARKET or kind is _STOP_LIMIT  # a stop not yet triggered
        self.limit_like = kind is _LIMIT  # a limit, or a stop-limit once triggered
        self.stop_level = INF if order.stop_price is None else float(order.stop_price)
        self.limit_level = INF if order.price is None else float(order.price)

    def levels(self) -> None:
        """Cache the stop and limit prices as floats for the per-bar checks (after any change)."""
        o = self.order
        self.stop_level = INF if o.stop_price is None else float(o.stop_price)
        self.limit_level = INF if o.price is None else float(o.price)

    def trigger(self) -> None:
        """The stop price was reached: a stop-limit now behaves as a limit."""
        self.triggered, self.stop_waiting = True, False
        self.limit_like = self.order.order_type is _STOP_LIMIT


class MatchingEngine:
    """Working orders of one instrument and the rules that match them against price points."""

    def __init__(self, instrument: Instrument, config: VenueConfig) -> None:
        self.instrument = instrument
        self.config = config
        self.pending: list[Working] = []  # sent, not arrived yet
        self.working: list[Working] = []  # arrived at the venue
        self.point_no = 0
        self.in_point = False
        self.current_ts = -1
        self.current_price = 0.0
        self._dirty = True
        self.expiring = 0  # working orders with a good-till time
        self._down = -INF  # a low at or below this may trade something
        self._up = INF  # a high at or above this may trade something

    # -- hooks the venue implements -------------------------------------------------------

    accept: Callable[[Working, int], None]
    reject: Callable[[Working, str, int], None]
    cancel_working: Callable[[Working, str, int], None]
    expire: Callable[[Working, str, int], None]
    fillable: Callable[[Working, int], Decimal]
    execute: Callable[[Working, list[tuple[Decimal, Decimal]], Liq, int, bool], None]

    # -- quick test for bars ----------------------------------------------------------------

    def thresholds(self) -> tuple[float, float]:
        """(down, up): a bar whose low stays above ``down`` and high below ``up`` trades nothing resting."""
        if self._dirty:
            down, up = -INF, INF
            for w in self.working:
                o = w.order
                if not w.resting or o.expire_ns is not None:
                    self._down, self._up = INF, -INF  # something fresh or expiring: always take the full path
                    return self._down, self._up
                value = w.stop_level if w.stop_waiting else w.limit_level
                if (o.side is Side.SELL) == w.stop_waiting:
                    down = max(down, value)
                else:
                    up = min(up, value)
            self._down, self._up, self._dirty = down, up, False
        return self._down, self._up

    def touch(self) -> None:
        """The working set changed: recompute the quick-test thresholds when next asked."""
        self._dirty = True

    # -- points ---------------------------------------------------------------------------

    def process_point(self, point: PricePoint, previous: float) -> None:
        """Match every active order against ``point``, reached from ``previous`` (continuously or by a jump).

        Orders already at the venue trade first (time priority), along the way from
        ``previous``; orders that arrive at this point are checked afterwards at its price.
        """
        self.point_no += 1
        self.in_point, self.current_ts = True, point.ts
        try:
            arrived = self._activate(point.ts)
            for w in arrived:
                w.seen = self.point_no  # held back until the earlier orders have traded
            if self.expiring:
                self._expire(point.ts)
            end = point.ask
            self._settle(point, previous if point.continuous else end, end)
            if arrived:
                for w in arrived:
                    w.seen = -1
                self._settle(point, end, end)
            self.current_price = end
        finally:
            self.in_point = False

    def _settle(self, point: PricePoint, cur: float, end: float) -> None:
        self.current_price = cur
        point_no = self.point_no
        for _ in range(MAX_STEPS_PER_POINT):
            for w in self.working:
                if not w.resting and w.seen != point_no:
                    self._aggress(w, point, cur)
                    break
            else:
                w = None  # type: ignore[assignment]
            if w is not None:
                continue
            hit = self._next_hit(point, cur, end)
            if hit is None:
                return
            w, price = hit
            cur = price
            self.current_price = cur
            self._trade_resting(w, point, price)
        raise RuntimeError(f"matching did not settle at point {point.ts}: orders keep re-triggering")

    def _activate(self, ts: int) -> list[Working]:
        if not self.pending or self.pending[0].arrival > ts:
            return []
        pending = self.pending  # sorted by arrival
        k = 1
        while k < len(pending) and pending[k].arrival <= ts:
            k += 1
        arrived = pending[:k]
        del pending[:k]
        self.working.extend(arrived)
        for w in arrived:
            if w.order.expire_ns is not None:
                self.expiring += 1
        self._dirty = True
        return arrived

    def _expire(self, ts: int) -> None:
        for w in [w for w in self.working if w.order.expire_ns is not None and w.order.expire_ns <= ts]:
            self.expire(w, "good-till time reached", ts)
        self.expiring = sum(1 for w in self.working if w.order.expire_ns is not None)

    def _price_for(self, side: Side, point: PricePoint, cur: float) -> float:
        if point.continuous or not point.liquidity.has_depth:
            return cur
        return point.ask if side is Side.BUY else point.bid

    def _aggress(self, w: Working, point: PricePoint, cur: float) -> None:
        """First look at an order that just arrived (or was modified, or whose stop just triggered)."""
        w.seen = self.point_no
        o = w.order
        if o.status is OrderStatus.SUBMITTED:
            if o.post_only and self._marketable(o.side, o.price, point, cur):  # type: ignore[arg-type]
                self.reject(w, f"post-only order would take liquidity (limit {o.price}, market {cur})", point.ts)
                return
            self.accept(w, point.ts)
        if w.stop_waiting:
            touch = self._price_for(o.side, point, cur)  # a buy stop watches the ask, a sell stop the bid
            reached = touch >= o.stop_price if o.side is Side.BUY else touch <= o.stop_price  # type: ignore[operator]
            if not reached:
                w.resting = True
                self._dirty = True
                return
            w.trigger()
        if w.limit_like and not self._marketable(o.side, o.price, point, cur):  # type: ignore[arg-type]
            if o.time_in_force is not TimeInForce.GTC:
                self.cancel_working(w, f"{o.time_in_force.value}: nothing marketable at the limit", point.ts)
            else:
                w.resting = True
                self._dirty = True
            return
        self._take(w, point, cur, w.order.price if w.limit_like else None)

    def _marketable(self, side: Side, limit: Decimal, point: PricePoint, cur: float) -> bool:
        touch = self._price_for(side, point, cur)
        return touch <= limit if side is Side.BUY else touch >= limit

    def _take(self, w: Working, point: PricePoint, cur: float, limit: Decimal | None) -> None:
        o = w.order
        want = self.fillable(w, point.ts)
        if want <= 0:
            return
        if o.time_in_force is TimeInForce.FOK:
            available = point.liquidity.available(o.side, limit)
            if available is not None and available < want:
                self.cancel_working(w, f"FOK: only {available} available of {want}", point.ts)
                return
        chunks = point.liquidity.take(o.side, want, limit, self._price_for(o.side, point, cur))
        if chunks:
            spread_known = point.liquidity.has_depth
            priced = [(self._taker_price(o.side, p, spread_known), q) for p, q in chunks]
            self.execute(w, priced, Liq.TAKER, point.ts, True)
        still_open = o.status in _OPEN
        if still_open and o.time_in_force is TimeInForce.IOC:
            self.cancel_working(w, "IOC: remainder canceled", point.ts)
        elif still_open and not chunks:
            w.exhausted = self.point_no
        elif still_open and w.limit_like:
            w.resting = True  # the unfilled rest of a marketable limit now rests
            self._dirty = True

    def _taker_price(self, side: Side, price: float, spread_known: bool) -> Decimal:
        touch = self.instrument.round_price(price)
        return self.config.slippage.price(self.instrument, side, touch, spread_known)

    def _next_hit(self, point: PricePoint, cur: float, end: float) -> tuple[Working, float] | None:
        """The resting order the price reaches first on its way from ``cur`` to ``end``, and where."""
        best: tuple[Working, float] | None = None
        best_distance = INF
        lo, hi = (cur, end) if cur <= end else (end, cur)
        jump = not point.continuous
        for w in self.working:
            if not w.resting or w.exhausted == self.point_no:
                continue
            o = w.order
            if w.stop_waiting:
                level = w.stop_level
                if o.side is Side.BUY:
                    touch = hi if not jump else point.ask
                    price = (level if cur <= level else cur) if touch >= level else None
                else:
                    touch = lo if not jump else point.bid
                    price = (level if cur >= level else cur) if touch <= level else None
            else:
                level = w.limit_level
                if o.side is Side.BUY:
                    touch = lo if not jump else point.ask
                    price = (level if cur >= level else cur) if touch < level else None
                else:
                    touch = hi if not jump else point.bid
                    price = (level if cur <= level else cur) if touch > level else None
            if price is not None:
                distance = abs(price - cur)
                if distance < best_distance:
                    best, best_distance = (w, price), distance
        return best

    def _trade_resting(self, w: Working, point: PricePoint, price: float) -> None:
        o = w.order
        if w.stop_waiting:
            w.trigger()
            if o.order_type is OrderType.STOP_LIMIT:
                w.resting = False
                w.seen = -1  # checked as an aggressor at the trigger price next
                self._dirty = True
                return
            w.resting, w.seen = False, self.point_no  # now a market order: what is left aggresses at later points
            self._dirty = True
            self._take(w, point, price, None)
            return
        limit: Decimal = o.price  # type: ignore[assignment]
        available = point.liquidity.through(o.side, limit)
        want = self.fillable(w, point.ts)
        qty = want if available is None else min(want, available)
        if qty <= 0:
            if want > 0:
                w.exhausted = self.point_no
            return
        point.liquidity.consume_through(o.side, limit, qty)
        fill_price = limit
        if not point.continuous and not point.liquidity.has_depth:
            gap_price = self.instrument.round_price(price)  # a bar opening through the limit
            fill_price = min(gap_price, limit) if o.side is Side.BUY else max(gap_price, limit)
        self.execute(w, [(fill_price, qty)], Liq.MAKER, point.ts, False)
