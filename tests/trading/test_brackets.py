"""Bracket consistency: what the engine changes so exit orders always fit the position."""

from __future__ import annotations

from decimal import Decimal as D

from tradeloom.trading.brackets import Cancel, ManagedPosition, Resize, consistency_actions
from tradeloom.trading.orders import Order, OrderStatus, OrderType, Purpose, Side


def working(cid: str, purpose: Purpose, qty: str, kind: OrderType = OrderType.MARKET, **kw: object) -> Order:
    o = Order(cid, "BTCUSD", Side.SELL, kind, D(qty), purpose=purpose, reduce_only=True, **kw)  # type: ignore[arg-type]
    o.transition(OrderStatus.SUBMITTED)
    o.transition(OrderStatus.ACCEPTED)
    return o


def bracket() -> ManagedPosition:
    mp = ManagedPosition("P1", Side.BUY, "P1-OCO")
    mp.stop = working("s", Purpose.STOP, "4", OrderType.STOP_MARKET, stop_price=D("95"), oco_group="P1-OCO")
    mp.take_profit = working("t", Purpose.TAKE_PROFIT, "4", OrderType.LIMIT, price=D("110"), oco_group="P1-OCO")
    return mp


def test_flat_cancels_every_exit_order_the_oco_sibling_included() -> None:
    mp = bracket()
    scale = working("x", Purpose.SCALE_OUT, "1")
    mp.exits.append(scale)
    actions = consistency_actions(mp, D(0))
    assert [(type(a), a.order.client_order_id) for a in actions] == [(Cancel, "s"), (Cancel, "t"), (Cancel, "x")]


def test_stop_trimmed_to_position_less_scale_outs_and_target_to_position() -> None:
    mp = bracket()
    mp.exits.append(working("x", Purpose.SCALE_OUT, "1"))
    actions = consistency_actions(mp, D("3"))
    assert actions == [Resize(mp.stop, D("2")), Resize(mp.take_profit, D("3"))]  # type: ignore[arg-type]


def test_a_pending_market_exit_does_not_remove_the_stop() -> None:
    mp = bracket()
    mp.exits.append(working("e", Purpose.EXIT, "4"))
    assert consistency_actions(mp, D("4")) == []
    assert mp.has_working_exit() and mp.pending_exit_quantity() == D("4")


def test_scale_outs_for_everything_leave_the_stop_in_place() -> None:
    mp = bracket()
    mp.exits.append(working("x", Purpose.SCALE_OUT, "4"))
    assert consistency_actions(mp, D("4")) == []


def test_finished_orders_are_not_touched() -> None:
    mp = bracket()
    mp.take_profit.transition(OrderStatus.CANCELED)  # type: ignore[union-attr]
    assert consistency_actions(mp, D(0)) == [Cancel(mp.stop, "position closed")]  # type: ignore[arg-type]


def test_the_stop_grows_back_when_a_scale_out_is_dropped_or_the_position_grows() -> None:
    mp = bracket()
    mp.stop = working("s2", Purpose.STOP, "3", OrderType.STOP_MARKET, stop_price=D("95"))
    assert consistency_actions(mp, D("4")) == [Resize(mp.stop, D("4"))]
    assert consistency_actions(mp, D("6")) == [Resize(mp.stop, D("6"))]  # the target (4) still fits
