"""Conditional exit: N of five conditions, recorded; the indicators behind them."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.risk.conditional_exit import (
    ConditionalExitConfig,
    ExitSignals,
    _ema,
    _swing,
    evaluate_conditional_exit,
    exit_signals,
    relative_strength_index,
)
from tradeloom.trading.risk.protection import PositionSide

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT


def _signals(rsi: float = 50, volume_ratio: float = 1.0, bearish: bool = False, bullish: bool = False,
             swing_high: float | None = None, swing_low: float | None = None) -> ExitSignals:
    return ExitSignals(rsi, volume_ratio, bearish, bullish, swing_high, swing_low)


def test_exit_when_enough_conditions_hold_and_record_which() -> None:
    config = ConditionalExitConfig(min_conditions=3)
    tired = _signals(rsi=75, volume_ratio=0.5, swing_high=112.0)
    decision = evaluate_conditional_exit(config, LONG, D(100), D(110), tired)
    assert decision.exit and decision.held == ("profit", "rsi", "volume_fading", "near_swing_extreme")
    assert decision.reason == "conditional: profit, rsi, volume_fading, near_swing_extreme"
    two = evaluate_conditional_exit(config, LONG, D(100), D(101), _signals(rsi=71, bearish=True))
    assert not two.exit and two.held == ("rsi", "macd_cross")
    # 2% of 112 is 2.24: 109.76 is the edge
    assert "near_swing_extreme" in evaluate_conditional_exit(config, LONG, D(100), D("109.76"), tired).held
    assert "near_swing_extreme" not in evaluate_conditional_exit(config, LONG, D(100), D("109.7"), tired).held


def test_shorts_mirror_the_conditions() -> None:
    config = ConditionalExitConfig(min_conditions=4)
    tired = _signals(rsi=25, volume_ratio=0.6, bullish=True, bearish=True, swing_low=91.0)
    decision = evaluate_conditional_exit(config, SHORT, D(100), D(90), tired)
    assert decision.exit and decision.held == ("profit", "rsi", "volume_fading", "macd_cross", "near_swing_extreme")
    long_view = evaluate_conditional_exit(config, LONG, D(100), D(90), tired)
    assert long_view.held == ("volume_fading", "macd_cross")
    assert not evaluate_conditional_exit(ConditionalExitConfig(enabled=False), SHORT, D(100), D(90), tired).exit


def test_rsi_by_hand_with_wilder_smoothing() -> None:
    assert relative_strength_index(np.array([100.0, 101.0, 100.0, 101.0, 100.0]), 4) == 50.0
    # one more bar up 2: gain (0.5 x 3 + 2) / 4 = 0.875, loss 0.375, RS 7/3 -> RSI 70
    assert relative_strength_index(np.array([100.0, 101.0, 100.0, 101.0, 100.0, 102.0]), 4) == pytest.approx(70.0)
    assert relative_strength_index(np.arange(1.0, 30.0), 14) == 100.0


def test_signals_from_bars() -> None:
    config = ConditionalExitConfig(swing_lookback=10)
    n = config.bars_needed + 5
    closes = np.linspace(100, 130, n)
    highs = closes + 0.5
    highs[-6] = 140.0  # a swing high five bars ago
    volumes = np.full(n, 1000.0)
    volumes[-1] = 500.0
    signals = exit_signals(config, highs, closes - 0.5, closes, volumes)
    assert signals.rsi == 100.0 and signals.volume_ratio == 0.5 and signals.swing_high == 140.0
    with pytest.raises(ValueError, match=f"need {config.bars_needed} bars"):
        exit_signals(config, highs[:10], closes[:10], closes[:10], volumes[:10])


def test_a_rise_then_a_fall_makes_exactly_one_bearish_cross_after_the_peak() -> None:
    config = ConditionalExitConfig()
    closes = np.concatenate([np.full(40, 100.0), np.linspace(100, 130, 30), np.linspace(129, 100, 30)])
    crosses = [
        end for end in range(config.bars_needed, len(closes) + 1)
        if exit_signals(config, closes[:end], closes[:end], closes[:end], np.ones(end)).macd_bearish_cross
    ]
    assert len(crosses) == 1 and crosses[0] > 70


def test_bad_conditional_settings_are_named() -> None:
    with pytest.raises(ValueError, match="between 1 and 5 conditions"):
        ConditionalExitConfig(min_conditions=6)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=20, max_size=80), st.integers(2, 14))
def test_vectorised_indicators_equal_their_recursive_definitions(steps: list[float], period: int) -> None:
    x = 100 + np.cumsum(np.array(steps))
    alpha, ema = 2 / (period + 1), [x[0]]
    for value in x[1:]:
        ema.append(alpha * value + (1 - alpha) * ema[-1])
    assert np.allclose(_ema(x, period), ema, rtol=0, atol=1e-9)
    change = np.diff(x)
    gain, loss = np.clip(change, 0, None), np.clip(-change, 0, None)
    avg_gain, avg_loss = gain[:period].mean(), loss[:period].mean()
    for g, l in zip(gain[period:], loss[period:]):
        avg_gain, avg_loss = (avg_gain * (period - 1) + g) / period, (avg_loss * (period - 1) + l) / period
    expected = 50.0 if avg_gain == avg_loss == 0 else 100.0 if avg_loss == 0 else 100 - 100 / (1 + avg_gain / avg_loss)
    assert relative_strength_index(x, period) == pytest.approx(expected, abs=1e-7)


def test_swings_need_lower_neighbours_on_both_sides() -> None:
    assert _swing(np.arange(10.0), 2, 10, True) is None  # a steady rise has no swing high
    assert _swing(np.array([1, 3, 2, 5, 9, 4, 3, 8, 7.0]), 2, 9, True) == 9.0
    assert _swing(np.array([5, 3, 4, 1, 2, 3, 4.0]), 2, 7, False) == 1.0


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.floats(-2, 2), min_size=60, max_size=60),
    volumes=st.lists(st.floats(1, 100), min_size=60, max_size=60),
    side=st.sampled_from(list(PositionSide)),
    entry=st.integers(80, 120),
    needed=st.integers(1, 5),
)
def test_the_lazy_decision_equals_the_full_one(steps: list[float], volumes: list[float], side: PositionSide,
                                                entry: int, needed: int) -> None:
    from tradeloom.trading.risk.conditional_exit import decide_conditional_exit

    config = ConditionalExitConfig(min_conditions=needed)
    closes = 100 + np.cumsum(np.array(steps))
    highs, lows = closes + 0.5, closes - 0.5
    price = D(repr(float(closes[-1])))
    full = evaluate_conditional_exit(config, side, D(entry), price, exit_signals(config, highs, lows, closes, volumes))
    lazy = decide_conditional_exit(config, side, D(entry), price, highs, lows, closes, volumes)
    assert lazy.exit == full.exit
    if full.exit:
        assert lazy.held == full.held
    else:
        assert set(lazy.held) <= set(full.held)
