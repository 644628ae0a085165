"""Clocks the engine is given: the backtest clock follows the market, the wall clock reads real time."""

from __future__ import annotations

import time

import pytest

from tradeloom.trading.clock import BacktestClock, Clock, WallClock, to_datetime


def test_backtest_clock_moves_forward_only() -> None:
    clock = BacktestClock(100)
    clock.observe(100)
    clock.observe(250)
    assert clock.now_ns() == 250
    with pytest.raises(ValueError, match="cannot go back from 250 to 249"):
        clock.observe(249)


def test_wall_clock_reads_the_system_and_ignores_market_time() -> None:
    clock = WallClock()
    before = time.time_ns()
    clock.observe(0)
    now = clock.now_ns()
    assert before <= now <= time.time_ns()
    assert isinstance(clock, Clock) and isinstance(BacktestClock(), Clock)


def test_timestamps_convert_to_aware_datetimes() -> None:
    assert to_datetime(1_700_000_000_000_000_000).isoformat() == "2023-11-14T22:13:20+00:00"
