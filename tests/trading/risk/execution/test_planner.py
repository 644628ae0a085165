"""The execution planner: method, price and reason for every entry and market exit; fills judged against the reference."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.orders import Order, OrderStatus, OrderType, Purpose, Side, TimeInForce
from tradeloom.trading.risk.execution.method import ExecutionConfig, MethodChoice, OrderMethod, Urgency
from tradeloom.trading.risk.execution.orderbook import BookLevel, OrderBook
from tradeloom.trading.risk.execution.planner import ExecutionPlanner, default_urgency, plan_execution
from tradeloom.trading.risk.execution.slippage import MarketOnExcess, SlippageTolerance

TICK = D("0.01")
REF = D(100)
CONVERT = ExecutionConfig()  # 0.5% tolerance, convert on excess
REFUSE = ExecutionConfig(slippage=SlippageTolerance(D("0.5"), MarketOnExcess.REFUSE))


def _book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(tuple(BookLevel(D(p), D(q)) for p, q in bids), tuple(BookLevel(D(p), D(q)) for p, q in asks))


LIQUID = _book([("99.99", "1000"), ("99.98", "1000")], [("100.01", "1000"), ("100.02", "1000")])
# 200 at the touch (score 0.8), then a cliff: 400 walks to an average 0.755% away from mid 100
THIN = _book([("99.99", "200"), ("99", "100"), ("98", "1000")], [("100.01", "200"), ("101", "100"), ("102", "1000")])
DRY = _book([("99.99", "10")], [("100.01", "10")])  # 2,000 of depth: score 0.04
WIDE = _book([("99.90", "1000")], [("100.10", "1000")])  # spread of 20 ticks


def _plan(config: ExecutionConfig, side: Side, quantity: str, purpose: Purpose = Purpose.ENTRY,
          book: OrderBook | None = None, urgency: Urgency | None = None, reference: D = REF,
          all_or_none: bool = False) -> tuple[OrderMethod | None, D | None, str]:
    plan = plan_execution(config, side, D(quantity), purpose, reference, TICK, urgency, book, all_or_none)
    return plan.method, plan.price, plan.reason


def test_urgency_defaults_by_purpose() -> None:
    assert [default_urgency(p) for p in Purpose] == [Urgency.NORMAL, Urgency.URGENT, Urgency.NORMAL, Urgency.NORMAL,
                                                     Urgency.URGENT]  # entry, stop, take-profit, scale-out, exit


def test_a_liquid_book_sends_at_market_with_the_estimate() -> None:
    assert _plan(CONVERT, Side.BUY, "10", book=LIQUID) == (
        OrderMethod.MARKET, None, "market: liquid (score 1.00), expected slippage 0.010% within 0.5%")


def test_a_thin_book_beyond_the_tolerance_converts_to_a_limit_at_the_bound() -> None:
    assert _plan(CONVERT, Side.BUY, "400", book=THIN) == (
        OrderMethod.LIMIT, D("100.50"), "expected slippage 0.755% exceeds the tolerance 0.5%: converted to a limit at 100.50")
    assert _plan(CONVERT, Side.SELL, "400", book=THIN) == (
        OrderMethod.LIMIT, D("99.50"), "expected slippage 0.755% exceeds the tolerance 0.5%: converted to a limit at 99.50")


def test_a_thin_book_beyond_the_tolerance_refuses_an_entry_when_set_to_refuse() -> None:
    assert _plan(REFUSE, Side.BUY, "400", book=THIN) == (
        None, None, "refused: expected slippage 0.755% exceeds the tolerance 0.5%")
    assert _plan(REFUSE, Side.BUY, "200", book=THIN)[0] is OrderMethod.MARKET  # the touch alone: 0.010%


def test_only_entries_are_refused_other_orders_are_converted() -> None:
    assert _plan(REFUSE, Side.SELL, "400", Purpose.SCALE_OUT, THIN) == (
        OrderMethod.LIMIT, D("99.50"),
        "expected slippage 0.755% exceeds the tolerance 0.5%: a scale_out is converted to a limit at 99.50, not refused")


def test_the_limit_is_bounded_by_the_tolerance_from_the_reference() -> None:
    # the book's bound is 100.50 from mid 100; the reference 99.90 allows at most 99.90 * 1.005 = 100.3995 -> 100.39
    assert _plan(CONVERT, Side.BUY, "400", book=THIN, reference=D("99.90")) == (
        OrderMethod.LIMIT, D("100.39"), "expected slippage 0.755% exceeds the tolerance 0.5%: converted to a limit at "
                                        "100.50; limit 100.50 bounded at 100.39 by the 0.5% tolerance from the reference 99.90")


def test_low_liquidity_avoids_a_market_order() -> None:
    assert _plan(CONVERT, Side.BUY, "1", book=DRY) == (
        OrderMethod.LIMIT, D("99.99"), "low liquidity (score 0.04 < 0.3) avoids a market order: passive limit")
    assert _plan(CONVERT, Side.BUY, "1", book=DRY, urgency=Urgency.URGENT) == (
        OrderMethod.IOC, D("100.50"), "low liquidity (score 0.04 < 0.3) avoids a market order: IOC bounded at 100.50")


def test_protective_exits_go_at_market_and_are_never_refused() -> None:
    assert _plan(REFUSE, Side.SELL, "1", Purpose.EXIT, DRY) == (
        OrderMethod.MARKET, None,
        "market: a protective exit is never refused or converted; expected slippage 0.010% within the tolerance 0.5%")
    assert _plan(REFUSE, Side.SELL, "400", Purpose.STOP, THIN) == (
        OrderMethod.MARKET, None,
        "market: a protective stop is never refused or converted; expected slippage 0.755% exceeds the tolerance 0.5%")
    assert _plan(REFUSE, Side.SELL, "5000", Purpose.EXIT, THIN)[2].endswith("; the book lacks 3700")
    on = ExecutionConfig(sell_use_post_only=True)
    assert _plan(on, Side.SELL, "1", Purpose.EXIT) == (
        OrderMethod.MARKET, None, "market: a protective exit is never refused or converted; no order book at the venue")


def test_post_only_settings_with_a_book() -> None:
    buys = ExecutionConfig(buy_use_post_only=True)
    assert _plan(buys, Side.BUY, "10", book=WIDE) == (
        OrderMethod.POST_ONLY, D("99.91"), "post-only: BUY_USE_POST_ONLY is on")
    assert _plan(buys, Side.SELL, "10", Purpose.SCALE_OUT, WIDE)[0] is OrderMethod.MARKET  # SELL_USE_POST_ONLY is off
    assert _plan(buys, Side.BUY, "10", book=WIDE, urgency=Urgency.URGENT)[0] is OrderMethod.MARKET
    sells = ExecutionConfig(sell_use_post_only=True)
    assert _plan(sells, Side.SELL, "10", Purpose.SCALE_OUT, WIDE) == (
        OrderMethod.POST_ONLY, D("100.09"), "post-only: SELL_USE_POST_ONLY is on")


def test_without_a_book_market_unless_post_only_or_all_or_none() -> None:
    assert _plan(CONVERT, Side.BUY, "10") == (OrderMethod.MARKET, None, "market: no order book at the venue")
    buys = ExecutionConfig(buy_use_post_only=True, sell_use_post_only=True)
    assert _plan(buys, Side.BUY, "10", reference=D("100.005")) == (
        OrderMethod.POST_ONLY, D("100.00"),
        "post-only at the reference 100.00: BUY_USE_POST_ONLY is on; no order book at the venue")
    assert _plan(buys, Side.SELL, "10", Purpose.SCALE_OUT, reference=D("100.005")) == (
        OrderMethod.POST_ONLY, D("100.01"),
        "post-only at the reference 100.01: SELL_USE_POST_ONLY is on; no order book at the venue")
    assert _plan(CONVERT, Side.BUY, "10", urgency=Urgency.PASSIVE)[:2] == (OrderMethod.POST_ONLY, D(100))
    assert _plan(CONVERT, Side.BUY, "10", all_or_none=True) == (
        OrderMethod.FOK, D("100.50"), "fill-or-kill: all or none wanted, no order book at the venue, bounded at 100.50")


def test_fill_or_kill_when_all_or_none_is_wanted() -> None:
    assert _plan(CONVERT, Side.BUY, "400", book=THIN, all_or_none=True) == (
        OrderMethod.FOK, D("100.50"), "fill-or-kill: all or none wanted, the book holds it, bounded at 100.50")
    assert _plan(CONVERT, Side.BUY, "2000", book=THIN, all_or_none=True) == (
        OrderMethod.FOK, D("100.50"), "fill-or-kill: all or none wanted, the book lacks 700, bounded at 100.50")


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="quantity must be positive, got 0"):
        plan_execution(CONVERT, Side.BUY, D(0), Purpose.ENTRY, REF, TICK)
    with pytest.raises(ValueError, match="reference price must be positive"):
        plan_execution(CONVERT, Side.BUY, D(1), Purpose.ENTRY, D(0), TICK)
    with pytest.raises(ValueError, match="a refused choice has no order fields: refused: expected"):
        plan_execution(REFUSE, Side.BUY, D(400), Purpose.ENTRY, REF, TICK, book=THIN).order_fields()


# -- applying plans and judging fills -------------------------------------------------------------------------


def _order(cid: str, side: Side, quantity: str, purpose: Purpose, reason: str) -> Order:
    return Order(cid, "XYZUSD", side, OrderType.MARKET, D(quantity), purpose=purpose, reason=reason)


def test_prepare_applies_the_plan_and_records_the_reason_with_the_entry() -> None:
    planner = ExecutionPlanner(CONVERT)
    entry = _order("e1", Side.BUY, "400", Purpose.ENTRY, "sma cross long")
    plan = planner.prepare(entry, REF, TICK, THIN)
    assert (entry.order_type, entry.price, entry.time_in_force, entry.post_only) == (
        OrderType.LIMIT, D("100.50"), TimeInForce.GTC, False)
    assert entry.reason == f"sma cross long; {plan.reason}"
    planner.record(entry, plan)
    scale = _order("s1", Side.SELL, "1", Purpose.SCALE_OUT, "scale_out_2R")
    planner.record(scale, planner.prepare(scale, REF, TICK, DRY, urgency=Urgency.URGENT))
    assert (scale.order_type, scale.time_in_force, scale.price) == (OrderType.LIMIT, TimeInForce.IOC, D("99.50"))
    assert scale.reason == "scale_out_2R"  # an exit keeps its kind for the reports; the plan is kept by the planner
    assert [(p.client_order_id, p.method) for p in planner.plans] == [("e1", "limit"), ("s1", "ioc")]
    assert planner.plans[-1].reason == "low liquidity (score 0.04 < 0.3) avoids a market order: IOC bounded at 99.50"
    assert planner.methods_used() == {"ioc": 1, "limit": 1}


def test_prepare_records_nothing_only_record_counts() -> None:
    planner = ExecutionPlanner(CONVERT)
    entry = _order("e1", Side.BUY, "1", Purpose.ENTRY, "signal")
    plan = planner.prepare(entry, REF, TICK)
    assert plan.method is OrderMethod.MARKET
    assert (list(planner.plans), planner.methods_used()) == ([], {})  # the gate may still refuse it
    planner.record(entry, plan)
    assert [(p.client_order_id, p.purpose, p.method, p.reason) for p in planner.plans] == [
        ("e1", Purpose.ENTRY, "market", "market: no order book at the venue")]
    assert planner.methods_used() == {"market": 1}


def test_a_refused_plan_leaves_the_order_untouched_and_is_recorded() -> None:
    planner = ExecutionPlanner(REFUSE)
    entry = _order("e1", Side.BUY, "400", Purpose.ENTRY, "signal")
    plan = planner.prepare(entry, REF, TICK, THIN)
    assert plan.refused
    assert (entry.order_type, entry.price, entry.reason) == (OrderType.MARKET, None, "signal")
    planner.record(entry, plan)
    assert planner.methods_used() == {"refused": 1}
    assert planner.plans[-1].reason == "refused: expected slippage 0.755% exceeds the tolerance 0.5%"


def test_only_new_market_orders_are_planned() -> None:
    planner = ExecutionPlanner(CONVERT)
    stop = Order("s", "XYZUSD", Side.SELL, OrderType.STOP_MARKET, D(1), stop_price=D(95), purpose=Purpose.STOP)
    with pytest.raises(ValueError, match="order s is STOP_MARKET; only market orders are planned"):
        planner.prepare(stop, REF, TICK)
    sent = _order("x", Side.BUY, "1", Purpose.ENTRY, "")
    sent.transition(OrderStatus.SUBMITTED)
    with pytest.raises(ValueError, match="only a NEW order can be planned"):
        MethodChoice(OrderMethod.MARKET, None, "market").apply(sent)


def test_plans_kept_are_bounded_by_keep_but_every_method_is_counted() -> None:
    planner = ExecutionPlanner(REFUSE, keep=2)
    for cid, quantity, book in (("a", "1", None), ("b", "1", None), ("c", "1", None), ("d", "400", THIN)):
        order = _order(cid, Side.BUY, quantity, Purpose.ENTRY, "")
        planner.record(order, planner.prepare(order, REF, TICK, book))
    assert [(p.client_order_id, p.method) for p in planner.plans] == [("c", "market"), ("d", "refused")]
    assert planner.methods_used() == {"market": 3, "refused": 1}  # the whole run, not only the plans kept


# -- invariants ----------------------------------------------------------------------------------------------

prices = st.integers(9_000, 11_000).map(lambda cents: D(cents) / 100)
sizes = st.integers(1, 3_000).map(D)


@st.composite
def books(draw: st.DrawFn) -> OrderBook:
    bid = draw(st.integers(9_500, 10_000))
    gap = draw(st.integers(1, 40))
    depth = st.lists(st.tuples(st.integers(1, 30), st.integers(1, 800)), min_size=1, max_size=6)
    bids, asks, price = [], [], bid
    for step, quantity in draw(depth):
        bids.append(BookLevel(D(price) / 100, D(quantity)))
        price -= step
    price = bid + gap
    for step, quantity in draw(depth):
        asks.append(BookLevel(D(price) / 100, D(quantity)))
        price += step
    return OrderBook(tuple(bids), tuple(asks))


@settings(max_examples=300, deadline=None)
@given(book=st.one_of(st.none(), books()), side=st.sampled_from(list(Side)), quantity=sizes,
       purpose=st.sampled_from(list(Purpose)), reference=prices, urgency=st.sampled_from([None, *Urgency]),
       all_or_none=st.booleans(), post_only=st.booleans(), refuse=st.booleans(), tolerance=st.sampled_from(["0.1", "0.5", "2"]))
def test_every_plan_keeps_the_rules(book: OrderBook | None, side: Side, quantity: D, purpose: Purpose, reference: D,
                                    urgency: Urgency | None, all_or_none: bool, post_only: bool, refuse: bool,
                                    tolerance: str) -> None:
    action = MarketOnExcess.REFUSE if refuse else MarketOnExcess.CONVERT
    config = ExecutionConfig(buy_use_post_only=post_only, sell_use_post_only=post_only,
                             slippage=SlippageTolerance(D(tolerance), action))
    plan = plan_execution(config, side, quantity, purpose, reference, TICK, urgency, book, all_or_none)
    assert plan.reason
    if plan.refused:
        assert purpose is Purpose.ENTRY and refuse and book is not None  # only entries, only by setting, only on a book
        return
    if purpose in (Purpose.STOP, Purpose.EXIT) and urgency in (None, Urgency.URGENT):
        assert plan.method is OrderMethod.MARKET  # a protective exit always goes out
    if plan.method is OrderMethod.MARKET:
        assert plan.price is None
        return
    assert plan.price is not None and plan.price % TICK == 0
    bound = reference * (1 + D(tolerance) / 100 * side.sign)
    assert (plan.price - bound) * side.sign <= 0  # never worse than the tolerance from the reference
    order_type, time_in_force, post_only = plan.order_fields()
    assert order_type is OrderType.LIMIT
    if post_only:
        assert time_in_force is TimeInForce.GTC
