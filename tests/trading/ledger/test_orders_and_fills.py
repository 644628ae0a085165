"""Orders, events and fills go in and come out exactly; the lifecycle table guards every update."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.trading.ledger.builders import fill_of, limit_order, order_fields
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderModified,
    OrderRejected,
    OrderSubmitted,
)
from tradeloom.trading.instrument import InstrumentKind, instrument_for
from tradeloom.trading.ledger import LedgerConflictError, SqlLedger
from tradeloom.trading.ledger_protocol import Ledger
from tradeloom.trading.orders import (
    IllegalTransitionError,
    Order,
    OrderStatus,
    OrderType,
    Purpose,
    Side,
    TimeInForce,
)
from tradeloom.trading.positions import fold

TINY = D("0.00000001")
BIG = D("123456789.123456789")


def test_sql_ledger_is_a_ledger(ledger: SqlLedger) -> None:
    assert isinstance(ledger, Ledger)


def test_an_order_round_trips_every_field_exactly(ledger: SqlLedger) -> None:
    order = Order("c-1", "BTCUSD", Side.SELL, OrderType.STOP_LIMIT, TINY, price=BIG, stop_price=D("123456789.12345679"),
                  time_in_force=TimeInForce.IOC, reduce_only=True, purpose=Purpose.STOP, oco_group="bracket-7",
                  position_id="trade-7", reason="protective stop", created_ns=1_700_000_000_123_456_789,
                  expire_ns=1_700_000_060_000_000_000)
    ledger.record_order(order)
    stored = ledger.order("c-1")
    assert stored is not None
    for name in Order.__slots__:
        assert getattr(stored, name) == getattr(order, name), name
    assert stored.quantity.as_tuple() == TINY.as_tuple()
    assert str(stored.price) == "123456789.123456789"
    assert ledger.order("missing") is None


def test_decimals_keep_their_exponent(ledger: SqlLedger) -> None:
    ledger.record_order(limit_order("c-1", quantity="1.10", price="100.000"))
    stored = ledger.order("c-1")
    assert stored is not None
    assert (str(stored.quantity), str(stored.price)) == ("1.10", "100.000")


def test_a_fill_round_trips_exactly(ledger: SqlLedger) -> None:
    fill = fill_of("f-1", Side.BUY, "0.00000001", "123456789.123456789", fee="0.000000000123456789",
                   ts=1_700_000_000_000_000_001)
    ledger.record_fill(fill)
    assert ledger.fills() == [fill]
    (stored,) = ledger.fills()
    assert (str(stored.quantity), str(stored.price)) == ("1E-8", "123456789.123456789")
    assert str(stored.fee) == "1.23456789E-10"
    assert stored.ts == 1_700_000_000_000_000_001


def test_every_event_kind_round_trips_in_order(ledger: SqlLedger) -> None:
    ledger.record_order(limit_order("c-1"))
    ledger.record_order(limit_order("c-2"))
    events: list[OrderEvent] = [
        OrderSubmitted("c-1", 10),
        OrderAccepted("c-1", "v-9", 11),
        OrderModified("c-1", 12, TINY, BIG, None),
        fill_of("f-1", Side.BUY, "0.00000001", "123456789.123456789", client_order_id="c-1", ts=13),
        OrderCanceled("c-1", 14, "user asked"),
        OrderRejected("c-2", 15, "min notional"),
        OrderExpired("c-2", 16, "good-till-time"),
    ]
    for event in events:
        ledger.record_event(event)
    assert ledger.events() == events
    assert ledger.events("c-2") == events[-2:]
    modified = ledger.events("c-1")[2]
    assert isinstance(modified, OrderModified) and modified.quantity.as_tuple() == TINY.as_tuple()
    assert ledger.fills() == []  # a Fill passed as an event is not a fill


def test_an_event_of_an_unrecorded_order_is_refused(ledger: SqlLedger) -> None:
    with pytest.raises(ValueError, match="record the order before its events"):
        ledger.record_event(OrderSubmitted("nobody", 1))
    assert ledger.events() == []


def test_events_and_fills_are_append_only_in_the_database(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.record_order(limit_order("c-1"))
    ledger.record_event(OrderSubmitted("c-1", 1))
    ledger.record_fill(fill_of("f-1", Side.BUY, "1", "100"))
    raw = sqlite3.connect(tmp_path / "ledger.sqlite")
    try:
        for statement in ("UPDATE order_events SET ts = 2", "DELETE FROM order_events",
                          "UPDATE fills SET price = '1'", "DELETE FROM fills"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                raw.execute(statement)
    finally:
        raw.close()
    assert ledger.events() == [OrderSubmitted("c-1", 1)]
    assert ledger.fills()[0].price == D("100")


def test_a_fill_seen_twice_is_stored_once(ledger: SqlLedger) -> None:
    fill = fill_of("f-1", Side.BUY, "2", "100", fee="0.2")
    ledger.record_fill(fill)
    ledger.record_fill(fill)
    ledger.record_fill(fill_of("f-1", Side.BUY, "2.0", "100.00", fee="0.20"))  # the same numbers, written differently
    assert ledger.fills() == [fill]
    assert ledger.positions()["BTCUSD"].quantity == D("2")


def test_a_different_fill_under_a_known_id_is_a_conflict(ledger: SqlLedger) -> None:
    ledger.record_fill(fill_of("f-1", Side.BUY, "2", "100"))
    with pytest.raises(LedgerConflictError, match="f-1"):
        ledger.record_fill(fill_of("f-1", Side.BUY, "2", "101"))
    assert [fill.price for fill in ledger.fills()] == [D("100")]


def test_fill_ids_are_unique_per_venue(ledger_url: str) -> None:
    with SqlLedger(ledger_url, venue="bybit") as bybit, SqlLedger(ledger_url, venue="alpaca") as alpaca:
        bybit.record_fill(fill_of("f-1", Side.BUY, "1", "100"))
        alpaca.record_fill(fill_of("f-1", Side.SELL, "3", "50", symbol="AAPL"))
        assert [fill.symbol for fill in bybit.fills()] == ["BTCUSD"]
        assert [fill.symbol for fill in alpaca.fills()] == ["AAPL"]
        assert list(alpaca.positions()) == ["AAPL"] and alpaca.positions()["AAPL"].quantity == D("-3")


def test_status_updates_follow_the_lifecycle_and_stamp_the_clock(ledger: SqlLedger, clock: BacktestClock) -> None:
    order = limit_order("c-1", quantity="3")
    ledger.record_order(order)
    order.transition(OrderStatus.SUBMITTED)
    ledger.record_order(order)
    order.transition(OrderStatus.ACCEPTED)
    order.venue_order_id = "v-1"
    clock.observe(5_000)
    ledger.record_order(order)
    order.record_fill(D("1"), D("100"))
    ledger.record_order(order)
    stored = ledger.order("c-1")
    assert stored is not None
    assert (stored.status, stored.venue_order_id, stored.filled_quantity, stored.filled_notional) == (
        OrderStatus.PARTIALLY_FILLED, "v-1", D("1"), D("100"))
    assert [order_fields(o) for o in ledger.open_orders()] == [order_fields(stored)]  # still open
    assert ledger.order_updated_at("c-1") == datetime(1970, 1, 1, 0, 0, 0, 5, tzinfo=UTC)  # 5_000 ns
    assert ledger.order_updated_at("unknown") is None


def test_a_snapshot_several_steps_ahead_is_accepted(ledger: SqlLedger) -> None:
    order = Order("m-1", "BTCUSD", Side.BUY, OrderType.MARKET, D("1"))
    ledger.record_order(order)
    for status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED):
        order.transition(status)
    order.record_fill(D("1"), D("100.5"))
    ledger.record_order(order)  # NEW -> FILLED in the store: reachable through the table
    stored = ledger.order("m-1")
    assert stored is not None and stored.status is OrderStatus.FILLED and stored.filled_notional == D("100.5")
    assert ledger.open_orders() == []


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.FILLED), OrderStatus.CANCELED),
        ((OrderStatus.SUBMITTED, OrderStatus.ACCEPTED), OrderStatus.NEW),
        ((OrderStatus.SUBMITTED, OrderStatus.ACCEPTED), OrderStatus.REJECTED),
        ((OrderStatus.REJECTED,), OrderStatus.SUBMITTED),
        ((OrderStatus.SUBMITTED, OrderStatus.CANCELED), OrderStatus.ACCEPTED),
    ],
)
def test_an_illegal_transition_raises_and_leaves_the_row_unchanged(
    ledger: SqlLedger, clock: BacktestClock, path: tuple[OrderStatus, ...], illegal: OrderStatus
) -> None:
    order = limit_order("c-1")
    ledger.record_order(order)
    for status in path:
        order.status = status
        ledger.record_order(order)
    before, before_at = ledger.order("c-1"), ledger.order_updated_at("c-1")
    clock.observe(9_999)
    order.status = illegal
    order.status_reason = "too late"
    with pytest.raises(IllegalTransitionError, match=f"{path[-1].value}"):
        ledger.record_order(order)
    after = ledger.order("c-1")
    assert before is not None and after is not None
    assert (after.status, after.status_reason) == (path[-1], "")
    assert all(getattr(after, name) == getattr(before, name) for name in Order.__slots__)
    assert ledger.order_updated_at("c-1") == before_at


def test_a_client_order_id_cannot_name_another_order(ledger: SqlLedger) -> None:
    ledger.record_order(limit_order("c-1", side=Side.BUY))
    with pytest.raises(LedgerConflictError, match="side='BUY'"):
        ledger.record_order(limit_order("c-1", side=Side.SELL))


def test_a_stale_copy_with_less_filled_is_refused(ledger: SqlLedger) -> None:
    order = limit_order("c-1", quantity="3")
    order.status = OrderStatus.ACCEPTED
    order.venue_order_id = "v-1"
    ledger.record_order(order)
    order.record_fill(D("2"), D("100"))
    ledger.record_order(order)
    order.filled_quantity, order.filled_notional = D("1"), D("100")
    with pytest.raises(LedgerConflictError, match="older than the one stored"):
        ledger.record_order(order)
    stored = ledger.order("c-1")
    assert stored is not None and stored.filled_quantity == D("2")


def test_a_venue_order_id_once_known_cannot_change(ledger: SqlLedger) -> None:
    order = limit_order("c-1")
    order.status, order.venue_order_id = OrderStatus.ACCEPTED, "v-1"
    ledger.record_order(order)
    order.venue_order_id = None  # a copy that does not know it: kept, not forgotten
    ledger.record_order(order)
    stored = ledger.order("c-1")
    assert stored is not None and stored.venue_order_id == "v-1"
    order.venue_order_id = "v-2"
    with pytest.raises(LedgerConflictError, match="v-1"):
        ledger.record_order(order)


def test_bad_input_is_refused_with_its_name(ledger: SqlLedger) -> None:
    order = limit_order("c-1")
    order.quantity = 1.5  # type: ignore[assignment]
    with pytest.raises(ValueError, match="order c-1 quantity must be a Decimal, got float 1.5"):
        ledger.record_order(order)
    order = limit_order("c-2")
    order.price = D("NaN")
    with pytest.raises(ValueError, match="order c-2 price must be finite"):
        ledger.record_order(order)
    order = limit_order("c-3", quantity="2")
    order.filled_quantity = D("2.5")
    with pytest.raises(ValueError, match="order c-3 has 2.5 filled of 2: impossible"):
        ledger.record_order(order)
    with pytest.raises(TypeError, match="str is not an order event"):
        ledger.record_event("submitted")  # type: ignore[arg-type]
    assert ledger.orders() == []



def test_reconciliation_stores_a_batch_of_fills_once_each(ledger: SqlLedger) -> None:
    first = [fill_of(f"f-{n}", Side.BUY, "1", str(100 + n), ts=n) for n in range(3)]
    assert ledger.record_fills(first) == 3
    again = first[1:] + [fill_of("f-3", Side.SELL, "3", "110", ts=3)]
    assert ledger.record_fills(again) == 1
    assert [fill.fill_id for fill in ledger.fills()] == ["f-0", "f-1", "f-2", "f-3"]
    position = ledger.positions()["BTCUSD"]
    assert (position.quantity, position.realised_pnl) == (D("0"), D("27"))  # 3 x 110 - (100 + 101 + 102)


def test_a_batch_with_a_conflicting_fill_stores_none_of_it(ledger: SqlLedger) -> None:
    ledger.record_fill(fill_of("f-1", Side.BUY, "1", "100"))
    with pytest.raises(LedgerConflictError, match="f-1"):
        ledger.record_fills([fill_of("f-2", Side.BUY, "1", "100"), fill_of("f-1", Side.BUY, "1", "99")])
    assert [fill.fill_id for fill in ledger.fills()] == ["f-1"]


def test_a_decimal_too_long_for_its_column_is_refused(ledger: SqlLedger) -> None:
    with pytest.raises(ValueError, match="fill f-1 quantity 0.1+ is longer than the 80 characters"):
        ledger.record_fill(fill_of("f-1", Side.BUY, "0." + "1" * 90, "100"))
    assert ledger.fills() == []


def test_instruments_round_trip_and_give_positions_their_quote(ledger: SqlLedger) -> None:
    btc = instrument_for("BTCUSDT", InstrumentKind.PERPETUAL, "0.1", "0.001", "5", base="BTC", quote="USDT",
                         max_notional="2000000")
    ledger.record_instrument(btc)
    assert ledger.instruments() == {"BTCUSDT": btc}
    assert str(ledger.instruments()["BTCUSDT"].lot_size) == "0.001"
    wider = instrument_for("BTCUSDT", InstrumentKind.PERPETUAL, "0.5", "0.001", "10", base="BTC", quote="USDT")
    ledger.record_instrument(wider)  # the venue changed its tick size
    assert ledger.instruments() == {"BTCUSDT": wider}
    ledger.record_fill(fill_of("f-1", Side.BUY, "0.002", "65000.5", fee="0.078", symbol="BTCUSDT", fee_currency="USDT"))
    position = ledger.positions()["BTCUSDT"]
    assert (position.quote, position.quantity, position.cost) == ("USDT", D("0.002"), D("130.0010"))


def test_a_fee_in_another_currency_than_the_quote_is_refused_by_the_fold(ledger: SqlLedger) -> None:
    ledger.record_instrument(instrument_for("BTCUSDT", InstrumentKind.SPOT, "0.1", "0.001", base="BTC", quote="USDT"))
    ledger.record_fill(fill_of("f-1", Side.BUY, "0.002", "65000.5", fee="0.000002", symbol="BTCUSDT",
                               fee_currency="BTC"))
    with pytest.raises(ValueError, match="fill f-1 charges its fee in BTC; positions account fees in USDT"):
        ledger.positions()


def test_the_ledger_tells_its_url(tmp_path: Path) -> None:
    ledger = SqlLedger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    try:
        assert ledger.url == f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    finally:
        ledger.close()


def test_a_large_batch_keeps_its_order_and_skips_what_is_known(ledger: SqlLedger) -> None:
    fills = [fill_of(f"f-{n}", Side.BUY if n % 2 == 0 else Side.SELL, "1", str(100 + n % 3), ts=n) for n in range(1200)]
    ledger.record_fills(fills[:700])
    assert ledger.record_fills(fills + fills[:5]) == 500  # repeats inside the batch count once
    assert ledger.fills() == fills
    assert ledger.positions()["BTCUSD"] == fold("BTCUSD", "USD", fills)


def test_a_batch_that_contradicts_itself_is_refused(ledger: SqlLedger) -> None:
    with pytest.raises(LedgerConflictError, match="f-1 appears twice in one batch"):
        ledger.record_fills([fill_of("f-1", Side.BUY, "1", "100"), fill_of("f-1", Side.BUY, "1", "101")])
    assert ledger.fills() == []


def test_a_text_longer_than_its_column_is_refused_on_sqlite_as_postgresql_would(ledger: SqlLedger) -> None:
    long_id = "c" * 129
    with pytest.raises(ValueError, match=f"order {long_id}: client_order_id is 129 characters long, .* at most 128"):
        ledger.record_order(limit_order(long_id))
    with pytest.raises(ValueError, match="fill f-1: fee_currency is 17 characters long"):
        ledger.record_fill(fill_of("f-1", Side.BUY, "1", "100", fee_currency="U" * 17))
    with pytest.raises(ValueError, match="fill f-2: symbol is 65 characters long"):
        ledger.record_fills([fill_of("f-2", Side.BUY, "1", "100", symbol="S" * 65)])
    assert ledger.orders() == [] and ledger.fills() == []
