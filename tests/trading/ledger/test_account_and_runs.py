"""Equity snapshots, trading-state switches and backtest runs: UTC times and exact money in and out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from tradeloom.trading.ledger import (
    BacktestRun,
    BacktestTrade,
    EquitySnapshot,
    LedgerConflictError,
    SqlLedger,
    StateEntry,
)
from tradeloom.trading.orders import Side

UTC = UTC
T0 = datetime(2026, 11, 21, 9, 30, 0, 123456, tzinfo=UTC)


def test_equity_snapshots_round_trip_in_utc_and_exact(ledger: SqlLedger) -> None:
    new_york = T0.astimezone(ZoneInfo("America/New_York")) + timedelta(minutes=1)
    ledger.record_equity(EquitySnapshot(new_york, D("99999.99999999"), D("100000.12345678"), D("0.00000001"),
                                        D("-123456789.123456789"), D("0.3")))
    ledger.record_equity(EquitySnapshot(T0, D(100000), D(100000), D(0), D(0), D(0)))
    first, second = ledger.equity_snapshots()
    assert first == EquitySnapshot(T0, D("100000"), D("100000"), D("0"), D("0"), D("0"))
    assert second.ts == datetime(2026, 11, 21, 9, 31, 0, 123456, tzinfo=UTC) and second.ts.tzinfo is UTC
    assert (str(second.unrealised), str(second.realised)) == ("-123456789.123456789", "1E-8")
    assert ledger.equity_snapshots(start=T0 + timedelta(seconds=1)) == [second]
    assert ledger.equity_snapshots(end=T0 + timedelta(seconds=1)) == [first]


def test_naive_times_and_inexact_money_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="equity snapshot ts must be timezone-aware"):
        EquitySnapshot(datetime(2026, 1, 1), D("1"), D("1"), D("0"), D("0"), D("0"))
    with pytest.raises(ValueError, match="equity snapshot cash must be finite"):
        EquitySnapshot(T0, D("Infinity"), D("1"), D("0"), D("0"), D("0"))
    with pytest.raises(ValueError, match="equity snapshot fees must be a decimal number"):
        EquitySnapshot(T0, D("1"), D("1"), D("0"), D("0"), "a lot")  # type: ignore[arg-type]


def test_trading_state_is_one_value_per_key_last_write_wins(ledger: SqlLedger, ledger_url: str) -> None:
    assert ledger.get_state("kill_switch") is None
    ledger.set_state("kill_switch", "engaged", "drawdown 12% > 10%", T0)
    ledger.set_state("breaker:bybit", "halted", "daily loss", T0)
    later = ledger.set_state("kill_switch", "released", "reviewed by ops", T0 + timedelta(hours=1))
    assert later == StateEntry("kill_switch", "released", "reviewed by ops", T0 + timedelta(hours=1))
    with SqlLedger(ledger_url, venue="another-venue") as elsewhere:  # state is shared by every venue
        assert elsewhere.get_state("kill_switch") == later
        assert set(elsewhere.states()) == {"kill_switch", "breaker:bybit"}
    with pytest.raises(ValueError, match="trading state key must not be empty"):
        ledger.set_state(" ", "x", "y", T0)


def _run(run_id: str = "run-1", created: datetime = T0, **changes: object) -> BacktestRun:
    trades = (
        BacktestTrade("EURUSD", Side.BUY, D("100000"), T0 - timedelta(days=2), D("1.08345"), T0 - timedelta(days=1),
                      D("1.08912"), D("567.00"), D("21.7257"), "take_profit"),
        BacktestTrade("EURUSD", Side.SELL, D("0.00000001"), T0 - timedelta(hours=3), D("123456789.123456789"),
                      None, None, None, D("0"), ""),
    )
    values: dict[str, object] = dict(
        run_id=run_id, strategy="sma_cross", parameters={"fast": 10, "slow": 50, "stop_pct": D("2.0")},
        symbol="EURUSD", timeframe="1m", data_start=datetime(2026, 1, 1, tzinfo=UTC),
        data_end=datetime(2026, 6, 30, 23, 59, tzinfo=UTC), code_version="v0.1.0-12-gabc1234",
        metrics={"sharpe": 1.25, "max_drawdown": -0.081, "trades": 2, "final_equity": D("100545.2743"),
                 "sortino": float("inf")},
        created_at=created, trades=trades,
    )
    values.update(changes)
    return BacktestRun(**values)  # type: ignore[arg-type]


def test_a_backtest_run_round_trips_with_its_trades(ledger: SqlLedger) -> None:
    run = _run()
    assert ledger.record_backtest_run(run) == "run-1"
    stored = ledger.backtest_run("run-1")
    assert stored == run
    assert stored is not None
    assert stored.parameters["stop_pct"] == D("2.0") and str(stored.parameters["stop_pct"]) == "2.0"
    assert stored.metrics["final_equity"] == D("100545.2743") and stored.metrics["sortino"] == float("inf")
    assert stored.trades[1].exit_at is None and str(stored.trades[1].quantity) == "1E-8"
    assert stored.data_end.tzinfo is UTC
    assert ledger.backtest_run("nope") is None


def test_recording_a_run_again_is_a_no_op_and_a_changed_one_a_conflict(ledger: SqlLedger) -> None:
    ledger.record_backtest_run(_run())
    ledger.record_backtest_run(_run())  # a retried task
    assert len(ledger.backtest_runs()) == 1
    with pytest.raises(LedgerConflictError, match="run-1"):
        ledger.record_backtest_run(_run(metrics={"sharpe": 9.9}))
    stored = ledger.backtest_run("run-1")
    assert stored is not None and stored.metrics["sharpe"] == 1.25


def test_runs_are_listed_newest_first_and_filtered(ledger: SqlLedger) -> None:
    ledger.record_backtest_run(_run("a", T0))
    ledger.record_backtest_run(_run("b", T0 + timedelta(minutes=1), strategy="macd"))
    ledger.record_backtest_run(_run("c", T0 + timedelta(minutes=2), symbol="AAPL"))
    assert [run.run_id for run in ledger.backtest_runs()] == ["c", "b", "a"]
    assert [run.run_id for run in ledger.backtest_runs(strategy="sma_cross")] == ["c", "a"]
    assert [run.run_id for run in ledger.backtest_runs(symbol="EURUSD", limit=1)] == ["b"]
    assert all(run.trades == () for run in ledger.backtest_runs())


def test_a_run_with_bad_fields_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="data_end .* is before data_start"):
        _run(data_start=T0, data_end=T0 - timedelta(days=1))
    with pytest.raises(ValueError, match="backtest run code_version must not be empty"):
        _run(code_version="")
    with pytest.raises(ValueError, match="backtest trade EURUSD side must be BUY or SELL"):
        BacktestTrade("EURUSD", "LONG", D("1"), T0, D("1"), None, None, None, D("0"))  # type: ignore[arg-type]


def test_metrics_that_json_cannot_hold_are_refused(ledger: SqlLedger) -> None:
    with pytest.raises(ValueError, match="backtest run run-1 metrics cannot be stored"):
        ledger.record_backtest_run(_run(metrics={"curve": object()}))
    assert ledger.backtest_runs() == []


def test_a_trade_reason_longer_than_its_column_is_refused(ledger: SqlLedger) -> None:
    trade = BacktestTrade("EURUSD", Side.BUY, D("1"), T0, D("1"), T0, D("1"), D("0"), D("0"), "r" * 65)
    with pytest.raises(ValueError, match="backtest run run-1 trade 0: exit_reason is 65 characters long"):
        ledger.record_backtest_run(_run(trades=(trade,)))
    assert ledger.backtest_runs() == []
