"""The engine writes to a SqlLedger as it trades; a ledger reopened afterwards holds the engine's own state."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tests.trading.engine_support import Scripted
from tests.trading.ledger.builders import order_fields
from tests.trading.venue_support import bars, btc
from tradeloom.trading.backtest import BacktestResult, run_backtest
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.events import OrderCanceled, OrderSubmitted
from tradeloom.trading.ledger import BacktestRun, BacktestTrade, SqlLedger, from_ns
from tradeloom.trading.metrics import TradeRecord
from tradeloom.trading.orders import OrderStatus, Purpose
from tradeloom.trading.policy import FixedStopTakeProfit
from tradeloom.trading.simulated import FeeSchedule, VenueConfig

T_RUN = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
HEAD = ((100, 100, 100, 100), (100, 101, 99, 100), (100, 101, 99.5, 100.5))  # entry signal at 1, filled at 2's open


def _run(ledger: SqlLedger, *rest: tuple[float, float, float, float], oco: bool = True) -> BacktestResult:
    data = bars(*HEAD, *rest)
    strategy = Scripted([0, 1] + [0] * (len(data) - 2), None)
    config = VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001")), native_oco=oco)
    return run_backtest(strategy, data, btc(), config, FixedStopTakeProfit(2, 4), D("100000"),
                        BacktestClock(int(data.ts[0])), ledger=ledger)


@pytest.mark.parametrize("oco", [True, False], ids=["native-oco", "engine-oco"])
def test_a_closed_bracket_is_in_the_ledger_exactly_as_the_engine_saw_it(ledger_url: str, oco: bool) -> None:
    url = ledger_url
    with SqlLedger(url, venue="sim") as ledger:
        result = _run(ledger, (101, 104.5, 100.5, 104), oco=oco)  # the take-profit fills, the stop is canceled
    with SqlLedger(url, venue="sim") as reopened:
        assert reopened.fills() == result.fills
        assert reopened.positions()["BTCUSD"] == result.final_position
        assert reopened.positions()["BTCUSD"].realised_pnl == D("4")
        assert reopened.open_orders() == []
        for order in result.orders:
            stored = reopened.order(order.client_order_id)
            assert stored is not None and order_fields(stored) == order_fields(order)
        stop = next(o for o in result.orders if o.purpose is Purpose.STOP)
        assert stop.status is OrderStatus.CANCELED
        kinds = [type(event) for event in reopened.events(stop.client_order_id)]
        assert kinds[0] is OrderSubmitted and kinds[-1] is OrderCanceled


def test_a_restart_mid_trade_finds_the_open_bracket_and_the_position(ledger_url: str) -> None:
    url = ledger_url
    with SqlLedger(url, venue="sim") as ledger:
        result = _run(ledger, (101, 102, 100.5, 101.5))  # neither stop (98) nor target (104) is reached
    with SqlLedger(url, venue="sim") as restarted:
        open_orders = {order.purpose: order for order in restarted.open_orders()}
        assert set(open_orders) == {Purpose.STOP, Purpose.TAKE_PROFIT}
        assert (open_orders[Purpose.STOP].stop_price, open_orders[Purpose.TAKE_PROFIT].price) == (D("98"), D("104"))
        assert all(order.status is OrderStatus.ACCEPTED for order in open_orders.values())
        position = restarted.positions()["BTCUSD"]
        assert position == result.final_position
        assert (position.quantity, position.average_entry, position.fees) == (D("1"), D("100"), D("0.1"))


def test_a_backtest_and_its_trades_come_back_as_the_metrics_module_reads_them(ledger: SqlLedger) -> None:
    result = _run(ledger, (97, 97.5, 96, 97))  # a gap through the stop
    trades = tuple(
        BacktestTrade(t.symbol, t.side, t.quantity, from_ns(t.entry_ts), t.entry_price, from_ns(t.exit_ts),
                      t.exit_price, t.pnl, t.fees, t.exit_reason)
        for t in result.trades
    )
    run = BacktestRun("bt-1", "scripted", {"stop_pct": D("2"), "take_profit_pct": D("4")}, "BTCUSD", "1m",
                      from_ns(int(result.ts[0])), from_ns(int(result.ts[-1])), "0.1.0",
                      {"final_equity": result.final_equity, "trades": len(result.trades)}, T_RUN, trades)
    ledger.record_backtest_run(run)
    stored = ledger.backtest_run("bt-1")
    assert stored is not None and stored.metrics["final_equity"] == D("99996.803")
    assert [TradeRecord.from_ledger(trade) for trade in stored.trades] == result.trades
    assert stored.trades[0].pnl == D("-3.197") and stored.trades[0].exit_reason == "stop"
