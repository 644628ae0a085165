"""Metrics: a hand-computed five-bar curve, frequency inference, edge cases and invariants."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.ledger.records import BacktestTrade
from tradeloom.trading.metrics import YEAR_NS, TradeRecord, compute_metrics, drawdown
from tradeloom.trading.orders import Side

DAY = 86_400_000_000_000
TS = np.arange(5, dtype=np.int64) * DAY
EQUITY = [Decimal(100), Decimal(120), Decimal(90), Decimal(108), Decimal(126)]
TRADES = [
    TradeRecord("EURUSD", Side.BUY, Decimal(1), 0, Decimal(100), 2 * DAY, Decimal(131), Decimal(30), Decimal(1), "take_profit"),
    TradeRecord("EURUSD", Side.SELL, Decimal(1), 3 * DAY, Decimal(100), 4 * DAY, Decimal(109), Decimal(-10), Decimal(1), "stop"),
    TradeRecord("EURUSD", Side.BUY, Decimal(1), 4 * DAY, Decimal(1), 4 * DAY, Decimal(6.5), Decimal(5), Decimal("0.5"), "signal"),
]


def test_five_bar_curve_by_hand() -> None:
    m = compute_metrics(TS, EQUITY, TRADES)
    # returns 1/5, -1/4, 1/5, 1/6; mean 19/240; four returns over four days -> 365.25 periods a year
    returns = [Fraction(1, 5), Fraction(-1, 4), Fraction(1, 5), Fraction(1, 6)]
    mean = sum(returns) / 4
    assert mean == Fraction(19, 240)
    variance = sum((r - mean) ** 2 for r in returns) / 3
    assert m.periods_per_year == 365.25
    assert m.sharpe == pytest.approx(float(mean) / math.sqrt(variance) * math.sqrt(365.25), rel=1e-12)
    assert m.sharpe == pytest.approx(6.877052321817523, rel=1e-12)
    # downside deviation sqrt(((-1/4)^2)/4) = 1/8, so Sortino = (19/240) * 8 * sqrt(365.25) = 19/30 sqrt(365.25)
    assert m.sortino == pytest.approx(19 / 30 * math.sqrt(365.25), rel=1e-12)
    # peak 120 at bar 1, trough 90 at bar 2 (-25%), back above 120 at bar 4: 3 bars, 3 days under water
    assert m.max_drawdown == 0.25
    assert (m.max_drawdown_duration_bars, m.max_drawdown_duration_ns) == (3, 3 * DAY)
    assert m.total_return == 0.26
    assert m.cagr == pytest.approx(1.26 ** (365.25 / 4) - 1, rel=1e-9)
    assert m.calmar == pytest.approx(m.cagr / 0.25, rel=1e-12)
    assert (m.initial_equity, m.final_equity) == (Decimal(100), Decimal(126))
    # trades: +30, -10, +5 net
    assert m.trades == 3 and m.win_rate == pytest.approx(2 / 3)
    assert m.profit_factor == 3.5
    assert m.expectancy == Decimal(25) / Decimal(3)
    assert m.fees == Decimal("2.5")
    assert m.exits_by_reason == {"signal": 1, "stop": 1, "take_profit": 1}
    # in a position over bars 0, 1 (first trade, exit at bar 2's stamp) and 3 (second): 3 of 5
    assert m.exposure == 0.6
    assert (m.bars, m.start_ts, m.end_ts) == (5, 0, 4 * DAY)


def test_as_dict_is_json_ready_with_exact_money() -> None:
    d = compute_metrics(TS, EQUITY, TRADES).as_dict()
    assert d["final_equity"] == "126" and d["fees"] == "2.5" and d["expectancy"] == str(Decimal(25) / Decimal(3))
    assert d["max_drawdown"] == 0.25 and d["trades"] == 3 and d["exits_by_reason"]["stop"] == 1


def test_unrecovered_drawdown_lasts_to_the_last_bar() -> None:
    m = compute_metrics(TS, [100.0, 90.0, 95.0, 110.0, 99.0])
    # two spells: peak 100 at bar 0 recovered at bar 3 (3 bars); peak 110 at bar 3 unrecovered to bar 4 (1 bar)
    assert (m.max_drawdown_duration_bars, m.max_drawdown_duration_ns) == (3, 3 * DAY)
    assert m.max_drawdown == pytest.approx(0.1)
    m = compute_metrics(TS, [100.0, 101.0, 90.0, 95.0, 99.0])
    assert (m.max_drawdown_duration_bars, m.max_drawdown_duration_ns) == (3, 3 * DAY)


def test_duration_is_measured_in_time_across_gaps() -> None:
    ts = np.array([0, 1, 2, 10, 11], dtype=np.int64) * DAY  # a long gap between bars 2 and 3
    m = compute_metrics(ts, [100.0, 99.0, 101.0, 100.0, 102.0])
    assert (m.max_drawdown_duration_bars, m.max_drawdown_duration_ns) == (2, 9 * DAY)
    assert m.periods_per_year == pytest.approx(4 / (11 * DAY / YEAR_NS))


def test_daily_equity_bars_give_the_trading_day_rate() -> None:
    days = np.array([d for d in range(365) if d % 7 not in (5, 6)], dtype=np.int64) * DAY
    m = compute_metrics(days, np.linspace(100.0, 110.0, len(days)))
    assert m.periods_per_year == pytest.approx((len(days) - 1) * 365.25 / 364)
    assert 255 < m.periods_per_year < 265


def test_undefined_ratios_are_none() -> None:
    flat = compute_metrics(TS, [100.0] * 5)
    assert (flat.sharpe, flat.sortino, flat.calmar, flat.max_drawdown) == (None, None, None, 0.0)
    assert (flat.win_rate, flat.profit_factor, flat.expectancy, flat.trades, flat.fees) == (None, None, None, 0, Decimal(0))
    assert flat.cagr == 0.0 and flat.exposure == 0.0 and flat.max_drawdown_duration_bars == 0
    rising = compute_metrics(TS, [100.0, 101.0, 103.0, 106.0, 110.0], TRADES[:1])
    assert rising.sortino is None and rising.profit_factor is None and rising.sharpe is not None
    single = compute_metrics(TS[:1], [100.0])
    assert (single.periods_per_year, single.cagr, single.sharpe) == (None, None, None)
    minutes = compute_metrics(np.arange(3, dtype=np.int64) * 60_000_000_000, [100.0, 150.0, 200.0])
    assert minutes.cagr is None  # doubling in two minutes does not annualise within float range
    ruined = compute_metrics(TS, [100.0, 50.0, 0.0, 0.0, 0.0])
    assert ruined.cagr == -1.0 and ruined.max_drawdown == 1.0
    assert ruined.sharpe == pytest.approx(-1.5 / 4 / np.std([-0.5, -1.0, 0.0, 0.0], ddof=1) * math.sqrt(365.25))


def test_overrides() -> None:
    m = compute_metrics(TS, EQUITY, TRADES, periods_per_year=252, in_position=np.array([1, 1, 1, 1, 0], bool), fees_paid=Decimal("3.25"))
    assert m.periods_per_year == 252 and m.exposure == 0.8 and m.fees == Decimal("3.25")
    assert m.sortino == pytest.approx(19 / 30 * math.sqrt(252), rel=1e-12)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="ts has 4 values, equity has 5"):
        compute_metrics(TS[:4], EQUITY)
    with pytest.raises(ValueError, match="strictly increasing"):
        compute_metrics(TS[::-1], EQUITY)
    with pytest.raises(ValueError, match="initial equity must be positive"):
        compute_metrics(TS, [0.0, 1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="equity is not finite at index 2"):
        compute_metrics(TS, [1.0, 1.0, float("nan"), 1.0, 1.0])
    with pytest.raises(ValueError, match="in_position has 3 flags for 5 bars"):
        compute_metrics(TS, EQUITY, in_position=np.ones(3, bool))
    with pytest.raises(ValueError, match="side must be BUY or SELL"):
        TradeRecord("X", "LONG", 1, 0, 1, 1, 1, 0, 0, "stop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exits at 0 before it enters at 5"):
        TradeRecord("X", Side.BUY, 1, 5, 1, 0, 1, 0, 0, "stop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="trade X pnl must be finite"):
        TradeRecord("X", Side.BUY, 1, 0, 1, 1, 1, float("inf"), 0, "stop")  # type: ignore[arg-type]


def test_trade_record_from_a_ledger_trade() -> None:
    start = datetime(2024, 1, 2, tzinfo=timezone.utc)
    ledger = BacktestTrade("EURUSD", Side.SELL, Decimal("2"), start, Decimal("1.1"), start + timedelta(minutes=3),
                           Decimal("1.0"), Decimal("0.19"), Decimal("0.01"), "take_profit")  # fmt: skip
    record = TradeRecord.from_ledger(ledger)
    assert record.entry_ts == 1_704_153_600_000_000_000 and record.exit_ts == record.entry_ts + 180_000_000_000
    assert (record.side, record.pnl, record.fees, record.exit_reason) == (Side.SELL, Decimal("0.19"), Decimal("0.01"), "take_profit")
    still_open = BacktestTrade("EURUSD", Side.BUY, Decimal(1), start, Decimal(1), None, None, None, Decimal(0))
    with pytest.raises(ValueError, match="still open"):
        TradeRecord.from_ledger(still_open)


curves = st.lists(st.floats(0.5, 1.5, allow_nan=False), min_size=2, max_size=60).map(lambda f: 1000.0 * np.cumprod(f))


@settings(max_examples=80, deadline=None)
@given(equity=curves, scale=st.floats(0.01, 1000.0))
def test_ratios_do_not_depend_on_account_size(equity: np.ndarray, scale: float) -> None:
    ts = np.arange(len(equity), dtype=np.int64) * 3_600_000_000_000
    a, b = compute_metrics(ts, equity), compute_metrics(ts, equity * scale)
    assert 0.0 <= a.max_drawdown < 1.0 and 0 <= a.max_drawdown_duration_bars < len(equity)
    assert a.max_drawdown == pytest.approx(-float(drawdown(equity).min()))
    for name in ("total_return", "sharpe", "sortino", "max_drawdown"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None) and (x is None or x == pytest.approx(y, rel=1e-9, abs=1e-12)), name
    assert a.max_drawdown_duration_bars == b.max_drawdown_duration_bars


pnls = st.lists(st.decimals(-1000, 1000, places=2), min_size=1, max_size=30)


@settings(max_examples=80, deadline=None)
@given(pnl=pnls, fee=st.decimals(0, 5, places=4))
def test_trade_statistics_are_exact_sums(pnl: list[Decimal], fee: Decimal) -> None:
    trades = [TradeRecord("X", Side.BUY, 1, i * DAY, 1, i * DAY + 1, 1, p, fee, "signal") for i, p in enumerate(pnl)]  # type: ignore[arg-type]
    ts = np.arange(len(pnl) + 1, dtype=np.int64) * DAY
    m = compute_metrics(ts, np.full(len(pnl) + 1, 100.0), trades)
    assert m.fees == fee * len(pnl)
    assert m.expectancy == sum(pnl, Decimal(0)) / len(pnl)
    wins, losses = sum(p for p in pnl if p > 0), -sum(p for p in pnl if p < 0)
    assert m.profit_factor == (float(wins / losses) if losses else None)
    assert m.exposure == pytest.approx(len(pnl) / (len(pnl) + 1))
    assert m.exits_by_reason == {"signal": len(pnl)}
