"""The engine end to end on hand-computed bars: entries, brackets, OCO, exits, ledger, gate, accounting."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.trading.engine_support import MaxQuantityGate, Scripted, TrailingStop
from tests.trading.memory_ledger import MemoryLedger
from tests.trading.venue_support import MINUTE, T0, bars, btc
from tradeloom.trading.backtest import BacktestResult, run_backtest
from tradeloom.trading.orders import OrderStatus, OrderType, Purpose, Side
from tradeloom.trading.policy import FixedStopTakeProfit
from tradeloom.trading.simulated import FeeSchedule, IntrabarOrder, VenueConfig

FEES = FeeSchedule(D("0.001"), D("0.001"))
CASH = D("100000")
HEAD = ((100, 100, 100, 100), (100, 101, 99, 100), (100, 101, 99.5, 100.5))  # entry signal at 1, filled at 2's open


def run(*rest: tuple[float, float, float, float], entry: list[int] | None = None, exits: list[bool] | None = None,
        oco: bool = True, intrabar: IntrabarOrder = IntrabarOrder.CONSERVATIVE, policy=None, **kw) -> BacktestResult:  # type: ignore[no-untyped-def]
    data = bars(*HEAD, *rest)
    n = len(data)
    signals = entry if entry is not None else [0, 1] + [0] * (n - 2)
    strategy = Scripted(signals, exits)
    config = VenueConfig(fees=FEES, native_oco=oco, intrabar=intrabar)
    return run_backtest(strategy, data, btc(), config, policy or FixedStopTakeProfit(2, 4), CASH, **kw)


def assert_identity_every_bar(result: BacktestResult) -> None:
    for t in range(len(result.bars)):
        cash, position = result.account_at(t)
        mark = result.mark(t)
        exact = result.exact_equity(t)
        assert exact == cash + position.quantity * mark
        assert exact == CASH + position.realised_pnl + position.unrealised_pnl(mark) - position.fees
        assert result.equity[t] == pytest.approx(float(exact), rel=1e-12)


def test_a_gap_through_the_stop_fills_at_the_open() -> None:
    result = run((97, 97.5, 96, 97))
    entry, stop = result.fills
    assert (entry.side, entry.price, entry.quantity, entry.ts) == (Side.BUY, D("100"), D("1"), T0 + 2 * MINUTE)
    assert (stop.side, stop.price, stop.ts) == (Side.SELL, D("97"), T0 + 3 * MINUTE)
    (trade,) = result.trades
    assert (trade.entry_price, trade.exit_price, trade.exit_reason) == (D("100"), D("97"), "stop")
    assert trade.fees == D("0.197") and trade.pnl == D("-3.197")
    assert result.final_cash == D("99996.803") == result.final_equity
    assert_identity_every_bar(result)


@pytest.mark.parametrize("oco", [True, False], ids=["native-oco", "engine-oco"])
def test_take_profit_fills_and_the_stop_sibling_is_canceled(oco: bool) -> None:
    result = run((101, 104.5, 100.5, 104), oco=oco)
    (trade,) = result.trades
    assert (trade.exit_price, trade.exit_reason, trade.pnl) == (D("104"), "take_profit", D("3.796"))
    stop = next(o for o in result.orders if o.purpose is Purpose.STOP)
    target = next(o for o in result.orders if o.purpose is Purpose.TAKE_PROFIT)
    assert (stop.order_type, stop.stop_price, stop.reduce_only) == (OrderType.STOP_MARKET, D("98.00"), True)
    assert (target.order_type, target.price, target.oco_group) == (OrderType.LIMIT, D("104.00"), stop.oco_group)
    assert target.status is OrderStatus.FILLED and stop.status is OrderStatus.CANCELED
    assert result.final_position.quantity == 0
    assert_identity_every_bar(result)


def test_a_target_touched_but_not_traded_through_does_not_fill() -> None:
    result = run((101, 104, 100.5, 103.5))
    assert len(result.fills) == 1 and result.trades == []
    assert result.exact_equity(3) == CASH - D("100.1") + D("103.5")
    assert_identity_every_bar(result)


@pytest.mark.parametrize(("intrabar", "price", "reason"), [
    (IntrabarOrder.CONSERVATIVE, D("98"), "stop"),
    (IntrabarOrder.OPEN_HIGH_LOW_CLOSE, D("104"), "take_profit"),
])
def test_stop_and_target_in_one_bar(intrabar: IntrabarOrder, price: D, reason: str) -> None:
    result = run((100, 105, 97, 100), intrabar=intrabar)
    (trade,) = result.trades
    assert (trade.exit_price, trade.exit_reason) == (price, reason)


def test_stop_checked_from_the_entry_bar_on() -> None:
    data = ((100, 100, 100, 100), (100, 101, 99, 100), (100, 101, 97.5, 98))  # entry bar itself falls through 98
    result = run_backtest(Scripted([0, 1, 0]), bars(*data), btc(), VenueConfig(fees=FEES), FixedStopTakeProfit(2, 4), CASH)
    assert [(f.price, f.ts) for f in result.fills] == [(D("100"), T0 + 2 * MINUTE), (D("98"), T0 + 2 * MINUTE + MINUTE // 3)]


def test_an_exit_signal_fills_at_the_next_open_and_cancels_the_bracket() -> None:
    exits = [False, False, False, True, False]
    result = run((100.5, 101, 100, 101), (101.5, 102, 101, 101.5), exits=exits)
    (trade,) = result.trades
    assert (trade.exit_price, trade.exit_reason, trade.exit_ts) == (D("101.5"), "signal", T0 + 4 * MINUTE)
    assert {o.purpose: o.status for o in result.orders} == {
        Purpose.ENTRY: OrderStatus.FILLED, Purpose.STOP: OrderStatus.CANCELED,
        Purpose.TAKE_PROFIT: OrderStatus.CANCELED, Purpose.EXIT: OrderStatus.FILLED,
    }
    assert_identity_every_bar(result)


def test_a_reversal_exits_then_enters_the_other_way() -> None:
    entry = [0, 1, 0, -1, 0, 0]
    result = run((100.5, 101, 100, 101), (102, 102.5, 101.5, 102), (101, 101.5, 100.5, 101), entry=entry,
                 policy=FixedStopTakeProfit(None, None))
    assert [(f.side, f.price) for f in result.fills] == [(Side.BUY, D("100")), (Side.SELL, D("102")), (Side.SELL, D("102"))]
    assert result.final_position.quantity == D("-1")
    (trade,) = result.trades
    assert (trade.side, trade.pnl) == (Side.BUY, D("2") - D("0.1") - D("0.102"))
    assert result.exact_equity(5) == CASH + D("2") + D("1") - D("0.1") - D("0.102") - D("0.102")
    assert_identity_every_bar(result)


def test_a_trailing_policy_moves_the_resting_stop() -> None:
    result = run((101, 103, 100.8, 102.5), (102, 102.2, 101.2, 101.5), policy=TrailingStop(D("1.5")))
    # after bar 2 (high 101) the stop goes to 99.5; after bar 3 (high 103) to 101.5; bar 4 trades down through it
    stop = next(o for o in result.orders if o.purpose is Purpose.STOP)
    assert (stop.stop_price, stop.reason, stop.status) == (D("101.50"), "trailing", OrderStatus.FILLED)
    assert result.trades[0].exit_price == D("101.5") and result.trades[0].exit_reason == "trailing"


def test_the_ledger_has_every_order_before_the_venue_answers() -> None:
    ledger = MemoryLedger({"BTCUSD": "USD"})
    result = run((97, 97.5, 96, 97), ledger=ledger)
    for order in result.orders:
        cid = order.client_order_id
        mine = [entry for entry in ledger.log if entry[1] == cid]
        assert mine[0] == ("order", cid, "SUBMITTED")
        assert mine[1] == ("event", cid, "OrderSubmitted")
        assert ledger.order(cid).status is order.status
    assert ledger.fills() == result.fills
    assert ledger.positions()["BTCUSD"] == result.final_position
    assert ledger.open_orders() == []


def test_the_gate_shrinks_and_refuses_with_reasons() -> None:
    gate = MaxQuantityGate(D("0.5"))
    result = run((97, 97.5, 96, 97), policy=FixedStopTakeProfit(2, 4, quantity=2), gate=gate)
    entry = result.orders[0]
    assert entry.quantity == D("0.5") and entry.reason == "scripted long; shrunk: size capped at 0.5"
    assert [p for _, p, _ in gate.seen] == [Purpose.ENTRY, Purpose.STOP, Purpose.TAKE_PROFIT]
    assert gate.seen[0][2] == CASH
    assert len(gate.fills) == 2
    refusing = MaxQuantityGate(D("5"), refuse_below=D("1"))
    refused = run((97, 97.5, 96, 97), gate=refusing)
    assert refused.fills == [] and refused.rejections == [("BT-1", "entry of 1.000 is too small to be worth it")]
    assert refused.orders == []


def test_venue_rejections_are_reported_and_nothing_is_held() -> None:
    result = run((97, 97.5, 96, 97), policy=FixedStopTakeProfit(2, 4, quantity="0.05"))  # 5 USD < min notional 10
    assert result.fills == []
    assert result.rejections == [("BT-1", "notional 5.00000 is below the minimum notional 10")]
