"""OrderBookSource: a venue with depth serves its current book; the planner plans from it; venues keep being Venues."""

from __future__ import annotations

from decimal import Decimal as D

from tests.trading.venue_support import T0, Recorder, bars, btc
from tradeloom.trading.orders import Order, OrderType, Purpose, Side
from tradeloom.trading.risk.execution.method import ExecutionConfig
from tradeloom.trading.risk.execution.orderbook import BookLevel, OrderBook, order_book_from_levels
from tradeloom.trading.risk.execution.planner import ExecutionPlanner
from tradeloom.trading.simulated import BookSnapshot, BookWalk, SimulatedVenue, VenueConfig
from tradeloom.trading.venue import OrderBookSource, Venue, order_book_of


FIRST = BookSnapshot(T0, bids=((99.99, 1.0), (99.5, 2.0)), asks=((100.01, 1.0), (100.5, 2.0)))
SECOND = BookSnapshot(T0 + 1, bids=((100.99, 0.5),), asks=((101.01, 0.5), (103.0, 5.0)))


def test_levels_become_an_exact_book() -> None:
    book = order_book_from_levels(((99.99, 1.0), (99.5, 0.0), (99.1, 2.5)), ((100.01, 0.1),))
    assert book == OrderBook((BookLevel(D("99.99"), D("1.0")), BookLevel(D("99.1"), D("2.5"))),
                             (BookLevel(D("100.01"), D("0.1")),))
    assert order_book_from_levels(((100.0, 1.0),), ((100.0, 1.0),)) is None  # locked: nothing to analyse
    assert order_book_from_levels(((100.0, 0.0),), ((101.0, 1.0),)) is None  # no bid left
    assert order_book_from_levels(((D("99.5"), D(3)),), ((D(100), D(1)),)).mid == D("99.75")  # type: ignore[union-attr]


def test_existing_venues_stay_venues_and_a_venue_without_depth_gives_no_book() -> None:
    venue = SimulatedVenue(btc(), bars((100, 101, 99, 100), (100, 101, 99, 100)), VenueConfig(), D(1000))
    assert isinstance(venue, Venue)
    assert order_book_of(venue, "BTCUSD") is None  # on bars: no book, whether or not it implements order_book
    assert not isinstance(object(), OrderBookSource) and order_book_of(object(), "BTCUSD") is None


def test_a_depth_venue_serves_its_current_snapshot() -> None:
    venue = SimulatedVenue(btc("1"), [FIRST, SECOND], VenueConfig(slippage=BookWalk()), D(100_000))
    venue.connect(Recorder())
    assert isinstance(venue, Venue) and isinstance(venue, OrderBookSource)
    assert order_book_of(venue, "BTCUSD") is None  # nothing replayed yet
    venue.pump()
    assert order_book_of(venue, "BTCUSD").best_ask == D("100.01")  # type: ignore[union-attr]
    venue.pump()
    assert order_book_of(venue, "BTCUSD") == OrderBook((BookLevel(D("100.99"), D("0.5")),),
                                                       (BookLevel(D("101.01"), D("0.5")), BookLevel(D(103), D(5))))
    bar_venue = SimulatedVenue(btc(), bars((100, 101, 99, 100), (100, 101, 99, 100)), VenueConfig(), D(1000))
    bar_venue.connect(Recorder())
    bar_venue.pump()
    assert order_book_of(bar_venue, "BTCUSD") is None  # a venue on bars has no book


def test_planned_from_the_venue_book_then_filled() -> None:
    venue = SimulatedVenue(btc("1"), [FIRST, SECOND, SECOND], VenueConfig(slippage=BookWalk()), D(100_000))
    recorder = Recorder()
    venue.connect(recorder)
    planner = ExecutionPlanner(ExecutionConfig(target_depth_notional=D(100)))
    venue.pump()
    venue.pump()  # now at SECOND: half a unit at 101.01, then a cliff to 103
    order = Order("c1", "BTCUSD", Side.BUY, OrderType.MARKET, D(1), purpose=Purpose.ENTRY, reason="signal")
    plan = planner.prepare(order, D(101), D("0.01"), order_book_of(venue, "BTCUSD"))
    # walking 1 unit: 0.5 at 101.01 + 0.5 at 103 = 102.005, 0.995% above mid 101: converted to a limit at 101.50
    assert plan.reason == "expected slippage 0.995% exceeds the tolerance 0.5%: converted to a limit at 101.50"
    assert (order.order_type, order.price) == (OrderType.LIMIT, D("101.50"))
    venue.submit(order)
    venue.pump()
    assert [(f.price, f.quantity) for f in recorder.fills] == [(D("101.01"), D("0.5"))]  # the limit stops the walk
