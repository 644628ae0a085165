"""SimulatedVenue on quotes and order-book snapshots: IOC, FOK, post-only and walking the book."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from tests.trading.venue_support import T0, Recorder, btc, order
from tradeloom.trading.events import OrderCanceled, OrderRejected
from tradeloom.trading.orders import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from tradeloom.trading.simulated import BookSnapshot, BookWalk, FeeSchedule, HalfSpread, Quotes, SimulatedVenue, VenueConfig

THIN = BookSnapshot(T0, bids=((99.0, 1.0), (98.0, 2.0)), asks=((100.0, 1.0), (101.0, 2.0)))


def book_venue(*snapshots: BookSnapshot, config: VenueConfig | None = None) -> tuple[SimulatedVenue, Recorder]:
    v = SimulatedVenue(btc("1"), list(snapshots), config or VenueConfig(slippage=BookWalk()), D("100000"))
    rec = Recorder()
    v.connect(rec)
    return v, rec


def test_ioc_takes_what_the_thin_book_has_and_cancels_the_rest() -> None:
    v, rec = book_venue(THIN)
    ioc = order(Side.BUY, "3", OrderType.LIMIT, price="100.50", tif=TimeInForce.IOC)
    v.submit(ioc)
    v.pump()
    assert [(f.price, f.quantity) for f in rec.fills] == [(D("100"), D("1"))]
    cancel = rec.events[-1]
    assert isinstance(cancel, OrderCanceled) and cancel.reason == "IOC: remainder canceled"


def test_fok_is_all_or_nothing_against_depth() -> None:
    v, rec = book_venue(THIN, THIN)
    too_big = order(Side.BUY, "4", OrderType.LIMIT, price="101", tif=TimeInForce.FOK)
    v.submit(too_big)
    v.pump()
    assert rec.fills == []
    assert rec.events[-1].reason == "FOK: only 3.0 available of 4"
    fits = order(Side.BUY, "3", OrderType.LIMIT, price="101", tif=TimeInForce.FOK, ts=T0)
    v.submit(fits)
    v.pump()
    assert [(f.price, f.quantity) for f in rec.fills] == [(D("100"), D("1")), (D("101"), D("2"))]


def test_a_market_order_walks_the_book() -> None:
    v, rec = book_venue(THIN)
    v.submit(order(Side.SELL, "2.5", tif=TimeInForce.IOC))
    v.pump()
    assert [(f.price, f.quantity) for f in rec.fills] == [(D("99"), D("1")), (D("98"), D("1.5"))]


def test_post_only_that_would_take_is_rejected_and_one_that_rests_is_accepted() -> None:
    v, rec = book_venue(THIN)
    taking = order(Side.BUY, "1", OrderType.LIMIT, price="100", post_only=True)
    resting = order(Side.BUY, "1", OrderType.LIMIT, price="99.50", post_only=True)
    v.submit(taking)
    v.submit(resting)
    v.pump()
    rejected = [e for e in rec.events if isinstance(e, OrderRejected)]
    assert [r.client_order_id for r in rejected] == [taking.client_order_id]
    assert rejected[0].reason == "post-only order would take liquidity (limit 100, market 100.0)"
    assert rec.kinds(resting.client_order_id) == ["OrderAccepted"]
    assert [o.client_order_id for o in v.open_orders()] == [resting.client_order_id]


def test_a_resting_bid_fills_when_the_ask_trades_through_it_as_maker() -> None:
    later = BookSnapshot(T0 + 1, bids=((98.5, 1.0),), asks=((99.0, 0.4), (99.4, 0.3), (99.6, 5.0)))
    v, rec = book_venue(THIN, later, config=VenueConfig(fees=FeeSchedule(D("-0.0001"), D("0.0005"))))
    bid = order(Side.BUY, "1", OrderType.LIMIT, price="99.50")
    v.submit(bid)
    v.pump()
    v.pump()
    # sellers at 99.0 and 99.4 crossed our 99.50 bid: 0.7 fills at our price, with the maker rebate
    (fill,) = rec.fills
    assert (fill.price, fill.quantity, fill.liquidity, fill.fee) == (D("99.50"), D("0.7"), Liquidity.MAKER, D("-0.006965"))
    assert [o.status for o in v.open_orders()] == [OrderStatus.PARTIALLY_FILLED]


def test_quotes_market_orders_pay_the_spread() -> None:
    quotes = Quotes(np.array([T0, T0 + 1]), np.array([99.9, 99.8]), np.array([100.1, 100.0]),
                    np.array([5.0, 5.0]), np.array([5.0, 5.0]))
    v = SimulatedVenue(btc("1"), quotes, VenueConfig(slippage=HalfSpread(50)), D("1000"))
    rec = Recorder()
    v.connect(rec)
    v.submit(order(Side.BUY, "1"))
    v.pump()
    v.submit(order(Side.SELL, "1", ts=T0 + 1))
    v.pump()
    assert [f.price for f in rec.fills] == [D("100.10"), D("99.80")]  # the quotes' own spread, not 50 bps


def test_book_walk_needs_depth() -> None:
    from tests.trading.venue_support import bars
    with pytest.raises(ValueError, match="BookWalk slippage needs quotes or order-book snapshots"):
        SimulatedVenue(btc(), bars((1, 1, 1, 1), (1, 1, 1, 1)), VenueConfig(slippage=BookWalk()))
    with pytest.raises(ValueError, match="crossed"):
        BookSnapshot(T0, bids=((101.0, 1.0),), asks=((100.0, 1.0),))
