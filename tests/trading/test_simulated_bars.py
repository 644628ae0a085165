"""SimulatedVenue on bars: hand-computed fills for market, limit and stop orders."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.trading.venue_support import MINUTE, T0, Recorder, bars, btc, close_ts, order
from tradeloom.errors import RejectedError
from tradeloom.trading.instrument import InstrumentKind
from tradeloom.trading.events import OrderCanceled, OrderRejected
from tradeloom.trading.orders import Liquidity, OrderType, Side
from tradeloom.trading.simulated import FeeSchedule, FixedBps, FixedLatency, HalfSpread, IntrabarOrder, SimulatedVenue, VenueConfig


def venue(data, config: VenueConfig | None = None, cash: str = "100000") -> tuple[SimulatedVenue, Recorder]:
    v = SimulatedVenue(btc(), data, config or VenueConfig(fees=FeeSchedule(D("0.0002"), D("0.001"))), D(cash))
    rec = Recorder()
    v.connect(rec)
    return v, rec


def long_position(v: SimulatedVenue, qty: str = "1") -> None:
    """Buy ``qty`` at market after bar 0 (fills at bar 1's open)."""
    assert v.pump()
    v.submit(order(Side.BUY, qty, ts=close_ts(0)))
    assert v.pump()


def test_market_order_fills_at_the_next_open_with_taker_fee() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (102, 103, 101, 102)))
    long_position(v)
    (fill,) = rec.fills
    assert (fill.price, fill.quantity, fill.fee, fill.liquidity, fill.ts) == (D("102"), D("1"), D("0.102"), Liquidity.TAKER, T0 + MINUTE)
    assert v.balances()["USD"] == D("100000") - D("102") - D("0.102")
    assert v.positions() == {"BTCUSD": D("1")}


@pytest.mark.parametrize(
    ("model", "side", "price"),
    [
        (FixedBps(10), Side.BUY, D("102.11")),  # 102 x 1.001 = 102.102, rounded up against the buyer
        (FixedBps(10), Side.SELL, D("101.89")),  # 102 x 0.999 = 101.898, rounded down against the seller
        (HalfSpread(20), Side.BUY, D("102.11")),  # half of 20 bps around the bar's trade price
        (FixedBps(0), Side.SELL, D("102")),
    ],
)
def test_slippage_models_on_bars(model, side: Side, price: D) -> None:
    v, rec = venue(bars((100, 101, 99, 100), (102, 103, 101, 102)), VenueConfig(slippage=model))
    v.pump()
    v.submit(order(side, "1", ts=close_ts(0)))
    v.pump()
    assert rec.fills[0].price == price


def test_a_limit_touched_but_not_traded_through_does_not_fill() -> None:
    v, rec = venue(bars((100, 101, 99.5, 100), (100, 100.5, 99, 99.5), (99.5, 99.8, 98.99, 99.2)))
    v.pump()
    buy = order(Side.BUY, "2", OrderType.LIMIT, price="99", ts=close_ts(0))
    v.submit(buy)
    v.pump()  # bar 1's low is exactly 99: touched, our place in the queue unknown -> no fill
    assert rec.fills == []
    assert rec.kinds(buy.client_order_id) == ["OrderAccepted"]
    v.pump()  # bar 2 trades through to 98.99 -> filled at the limit, as maker
    (fill,) = rec.fills
    assert (fill.price, fill.quantity, fill.liquidity, fill.fee) == (D("99"), D("2"), Liquidity.MAKER, D("0.0396"))


def test_a_marketable_limit_takes_at_the_open() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (100.5, 101, 100, 100.5)))
    v.pump()
    v.submit(order(Side.BUY, "1", OrderType.LIMIT, price="101", ts=close_ts(0)))
    v.pump()
    assert (rec.fills[0].price, rec.fills[0].liquidity) == (D("100.5"), Liquidity.TAKER)


def test_a_gap_through_a_stop_fills_at_the_open() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (100, 100, 99, 99.5), (93, 94, 92, 93.5)))
    long_position(v)
    v.submit(order(Side.SELL, "1", OrderType.STOP_MARKET, stop="95", ts=close_ts(1), reduce_only=True))
    v.pump()
    stop_fill = rec.fills[-1]
    assert (stop_fill.price, stop_fill.liquidity) == (D("93"), Liquidity.TAKER)
    assert v.positions()["BTCUSD"] == 0
    # bought at 100 (fee 0.1), sold at 93 (fee 0.093)
    assert v.balances()["USD"] == D("100000") - D("100") - D("0.1") + D("93") - D("0.093")


def test_a_stop_inside_a_bar_fills_at_its_price() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (100, 100, 99, 99.5), (97, 97.5, 94, 95)))
    long_position(v)
    v.submit(order(Side.SELL, "1", OrderType.STOP_MARKET, stop="95", ts=close_ts(1), reduce_only=True))
    v.pump()
    assert rec.fills[-1].price == D("95")


def bracket_bar(intrabar: IntrabarOrder) -> tuple[SimulatedVenue, Recorder, str, str]:
    data = bars((100, 101, 99, 100), (100, 100, 99.5, 100), (100, 111, 94, 100))
    v, rec = venue(data, VenueConfig(intrabar=intrabar))
    long_position(v)
    stop = order(Side.SELL, "1", OrderType.STOP_MARKET, stop="95", ts=close_ts(1), reduce_only=True, oco_group="b1")
    target = order(Side.SELL, "1", OrderType.LIMIT, price="110", ts=close_ts(1), reduce_only=True, oco_group="b1")
    v.submit(stop)
    v.submit(target)
    v.pump()
    return v, rec, stop.client_order_id, target.client_order_id


def test_stop_and_target_in_one_bar_conservative_stops_out_and_cancels_the_target() -> None:
    v, rec, stop, target = bracket_bar(IntrabarOrder.CONSERVATIVE)
    assert rec.fills[-1].client_order_id == stop and rec.fills[-1].price == D("95")
    assert rec.kinds(target)[-1] == "OrderCanceled"
    cancel = [e for e in rec.events if isinstance(e, OrderCanceled)][0]
    assert cancel.reason == f"OCO: sibling {stop} filled"
    assert v.open_orders() == []


def test_stop_and_target_in_one_bar_high_first_takes_profit() -> None:
    v, rec, stop, target = bracket_bar(IntrabarOrder.OPEN_HIGH_LOW_CLOSE)
    assert rec.fills[-1].client_order_id == target and rec.fills[-1].price == D("110")
    assert rec.fills[-1].liquidity is Liquidity.MAKER
    assert rec.kinds(stop)[-1] == "OrderCanceled"


def test_stop_limit_triggers_then_rests_as_a_limit() -> None:
    data = bars((100, 101, 99, 100), (100, 100, 99.5, 100), (94, 94.4, 93, 94), (94, 94.6, 93.5, 94.5))
    v, rec = venue(data)
    long_position(v)
    sl = order(Side.SELL, "1", OrderType.STOP_LIMIT, price="94.5", stop="95", ts=close_ts(1), reduce_only=True)
    v.submit(sl)
    v.pump()  # opens at 94 through the stop: triggered, but selling at 94 is below the 94.5 limit
    assert len(rec.fills) == 1
    v.pump()  # high 94.6 trades through 94.5
    assert (rec.fills[-1].price, rec.fills[-1].liquidity) == (D("94.5"), Liquidity.MAKER)


def test_min_notional_and_lot_rules_reject_with_the_reason() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (100, 101, 99, 100)))
    v.pump()
    small = order(Side.BUY, "0.05", OrderType.LIMIT, price="100")
    v.submit(small)
    odd = order(Side.BUY, "0.1005", OrderType.LIMIT, price="100")
    v.submit(odd)
    rejected = [e for e in rec.events if isinstance(e, OrderRejected)]
    assert [r.reason for r in rejected] == [
        "notional 5.00 is below the minimum notional 10",
        "quantity 0.1005 is not a multiple of the lot size 0.001",
    ]
    market = order(Side.BUY, "0.05")  # a market order is judged at the last price (close 100)
    v.submit(market)
    assert rec.events[-1].reason == "notional 5.0000 is below the minimum notional 10"


def test_reduce_only_without_a_position_is_rejected() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (100, 101, 99, 100)))
    v.submit(order(Side.SELL, "1", reduce_only=True))
    assert rec.events[-1].reason == "reduce-only order would not reduce the position (0)"


def test_spot_refuses_to_sell_what_is_not_held_and_buying_beyond_cash() -> None:
    v = SimulatedVenue(btc(kind=InstrumentKind.SPOT), bars((100, 101, 99, 100), (100, 101, 99, 100)), VenueConfig(), D("50"))
    rec = Recorder()
    v.connect(rec)
    v.pump()
    v.submit(order(Side.SELL, "1"))
    v.submit(order(Side.BUY, "1"))
    assert [e.reason for e in rec.events] == ["spot: cannot sell 1 BTC, holding 0", "insufficient funds: need 100.00 USD, have 50"]


def test_latency_delays_arrival_into_the_bar() -> None:
    # 30 s latency: the order sent at bar 1's start arrives a third of the way in -> misses the open.
    data = bars((100, 101, 99, 100), (100, 104, 98, 101))
    v, rec = venue(data, VenueConfig(latency=FixedLatency(30 * 1_000_000_000)))
    v.pump()
    v.submit(order(Side.BUY, "1", ts=close_ts(0)))
    v.pump()
    # points: open @0s, low @20s, high @40s, close @59.99s: the first at or after 30 s is the high
    assert rec.fills[0].price == D("104")


def test_partial_fills_under_a_volume_participation_cap() -> None:
    data = bars((100, 101, 99, 100), (101, 101, 101, 101), (102, 102, 102, 102), (103, 103, 103, 103), volume=10)
    v, rec = venue(data, VenueConfig(volume_participation=D("0.1")))
    v.pump()
    buy = order(Side.BUY, "2.5", ts=close_ts(0))
    v.submit(buy)
    while v.pump():
        pass
    assert [(f.price, f.quantity) for f in rec.fills] == [(D("101"), D("1")), (D("102"), D("1")), (D("103"), D("0.5"))]
    assert rec.kinds(buy.client_order_id) == ["OrderAccepted", "Fill", "Fill", "Fill"]


def test_cancel_and_modify() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (100, 100.5, 98, 99)))
    v.pump()
    buy = order(Side.BUY, "1", OrderType.LIMIT, price="97", ts=close_ts(0))
    v.submit(buy)
    v.modify(buy.client_order_id, price=D("98.5"))
    with pytest.raises(RejectedError, match="not a multiple of the tick size"):
        v.modify(buy.client_order_id, price=D("98.505"))
    v.pump()
    assert rec.fills[0].price == D("98.5")
    other = order(Side.BUY, "1", OrderType.LIMIT, price="90")
    v.submit(other)
    v.cancel(other.client_order_id)
    assert rec.kinds(other.client_order_id) == ["OrderCanceled"]
    assert v.open_orders() == []


def test_a_good_till_time_order_expires_at_the_first_point_past_its_time() -> None:
    v, rec = venue(bars((100, 101, 99, 100), (100, 100.5, 99.5, 100), (100, 100.5, 99.5, 100)))
    v.pump()
    gtt = order(Side.BUY, "1", OrderType.LIMIT, price="90", ts=close_ts(0), expire_ns=T0 + 2 * MINUTE)
    v.submit(gtt)
    v.pump()
    assert rec.kinds(gtt.client_order_id) == ["OrderAccepted"]
    v.pump()
    assert rec.kinds(gtt.client_order_id) == ["OrderAccepted", "OrderExpired"]
    assert rec.events[-1].reason == "good-till time reached" and rec.events[-1].ts == T0 + 2 * MINUTE
