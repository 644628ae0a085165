"""The risk side assembled: shared breakers, and bars served without look-ahead."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.policy import PositionPolicy
from tradeloom.trading.risk.assembly import ReplayBarWindow, risk_side
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk_gate import RiskGate
from tradeloom.trading.strategies.base import Bars

MINUTE = 60 * 10**9


def _bars(n: int) -> Bars:
    values = np.arange(n, dtype=float) + 100
    return Bars(np.arange(n, dtype=np.int64) * MINUTE, values, values + 1, values - 1, values, values * 10)


def test_only_closed_bars_are_served() -> None:
    clock = BacktestClock(0)
    window = ReplayBarWindow("XYZ", _bars(10), clock)
    assert window.recent("XYZ", 5) is None  # bar 0 has not closed at its own start
    clock.observe(MINUTE)  # bar 0 closed
    assert list(window.recent("XYZ", 5).closes) == [100.0]  # type: ignore[union-attr]
    clock.observe(4 * MINUTE + 30 * 10**9)  # bars 0..3 closed, bar 4 is still forming
    recent = window.recent("XYZ", 3)
    assert recent is not None and list(recent.closes) == [101.0, 102.0, 103.0] and list(recent.highs) == [102.0, 103.0, 104.0]
    assert window.recent("ABC", 3) is None


def test_the_policy_and_the_gate_share_the_breakers() -> None:
    clock = BacktestClock(0)
    side = risk_side(RiskConfig(), D(2), clock, fee_rate=D("0.001"))
    assert isinstance(side.policy, PositionPolicy) and isinstance(side.gate, RiskGate)
    assert side.policy.breakers is side.breakers is side.gate.breakers
    side.breakers.update(D(1000))
    side.breakers.update(D(900))
    assert not side.breakers.allows_entries and side.gate.breakers.state.value == "halted"


def test_the_bar_window_serves_the_gate_too() -> None:
    clock = BacktestClock(0)
    window = ReplayBarWindow("XYZ", _bars(10), clock)
    side = risk_side(RiskConfig(), D(2), clock, bars=window)
    assert side.policy.bars is window
    assert side.gate.cluster_watch is not None and side.gate.cluster_watch.bars is window
    assert side.gate.cluster_watch.clock is clock
    assert risk_side(RiskConfig(), D(2), clock).gate.cluster_watch is None


def test_the_execution_planner_is_built_from_the_execution_settings() -> None:
    from tradeloom.trading.orders import Purpose, Side
    from tradeloom.trading.risk.execution.method import ExecutionConfig, OrderMethod
    from tradeloom.trading.risk.execution.planner import plan_execution

    config = RiskConfig(execution=ExecutionConfig(buy_use_post_only=True))
    side = risk_side(config, D(2), BacktestClock(0))
    assert side.planner.config is config.execution
    plan = plan_execution(side.planner.config, Side.BUY, D(1), Purpose.ENTRY, D(100), D("0.01"))
    assert (plan.method, plan.price) == (OrderMethod.POST_ONLY, D(100))
