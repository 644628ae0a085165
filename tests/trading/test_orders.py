"""The order lifecycle table and order records."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeloom.trading.orders import (
    TRANSITIONS,
    IllegalTransitionError,
    Order,
    OrderStatus,
    OrderType,
    Side,
)


def order(**kw: object) -> Order:
    fields: dict[str, object] = dict(client_order_id="c1", symbol="EURUSD", side=Side.BUY,
                                     order_type=OrderType.LIMIT, quantity=D("3"), price=D("1.1"))
    fields.update(kw)
    return Order(**fields)  # type: ignore[arg-type]


def test_a_normal_life_partial_then_full() -> None:
    o = order()
    o.transition(OrderStatus.SUBMITTED)
    o.transition(OrderStatus.ACCEPTED)
    o.record_fill(D("1"), D("1.1"))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.remaining == D("2")
    o.record_fill(D("2"), D("1.0"))
    assert o.status is OrderStatus.FILLED
    assert o.average_fill_price == D("3.1") / D("3")
    assert not o.is_open


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), OrderStatus.FILLED),  # NEW cannot fill
        ((OrderStatus.SUBMITTED,), OrderStatus.FILLED),  # not acknowledged yet
        ((OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.FILLED), OrderStatus.CANCELED),
        ((OrderStatus.SUBMITTED, OrderStatus.CANCELED), OrderStatus.ACCEPTED),
        ((OrderStatus.REJECTED,), OrderStatus.SUBMITTED),
        ((OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.EXPIRED), OrderStatus.PARTIALLY_FILLED),
    ],
)
def test_illegal_transitions_raise(path: tuple[OrderStatus, ...], bad: OrderStatus) -> None:
    o = order()
    for status in path:
        o.transition(status)
    before = o.status
    with pytest.raises(IllegalTransitionError, match=f"illegal transition {before.value} -> {bad.value}"):
        o.transition(bad)
    assert o.status is before


def test_terminal_statuses_have_no_way_out() -> None:
    for status in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED):
        assert TRANSITIONS[status] == frozenset()
    assert set(TRANSITIONS) == set(OrderStatus)


def test_overfill_is_refused() -> None:
    o = order()
    o.transition(OrderStatus.SUBMITTED)
    o.transition(OrderStatus.ACCEPTED)
    with pytest.raises(ValueError, match="does not fit the remaining 3"):
        o.record_fill(D("4"), D("1.1"))


def test_order_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="needs a limit price"):
        order(price=None)
    with pytest.raises(ValueError, match="needs a stop price"):
        order(order_type=OrderType.STOP_MARKET, price=None)
    with pytest.raises(ValueError, match="post-only order c1 must be a LIMIT"):
        order(order_type=OrderType.MARKET, price=None, post_only=True)
    assert Side.BUY.sign == 1 and Side.SELL.opposite is Side.BUY


def test_copy_is_complete_and_independent() -> None:
    o = order(oco_group="g", reason="why", created_ns=5)
    o.transition(OrderStatus.SUBMITTED)
    c = o.copy()
    assert {name: getattr(c, name) for name in Order.__slots__} == {name: getattr(o, name) for name in Order.__slots__}
    c.transition(OrderStatus.ACCEPTED)
    assert o.status is OrderStatus.SUBMITTED
