"""Dynamic initial stop: ATR, widening in high volatility, the 1.5x cap, and adverse excursion history."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from tradeloom.trading.risk.dynamic_stop import (
    DynamicStopConfig,
    ExcursionHistory,
    NoExcursionHistory,
    StopDistance,
    average_true_range,
    initial_stop_distance,
    stop_price,
)
from tradeloom.trading.risk.protection import PositionSide


def _bars(ranges: list[float]) -> tuple[list[float], list[float], list[float]]:
    closes = [100.0] * len(ranges)
    return [100 + r / 2 for r in ranges], [100 - r / 2 for r in ranges], closes


def test_atr_is_the_mean_true_range_including_gaps() -> None:
    highs, lows, closes = [10.0, 12.0, 11.0], [9.0, 11.0, 8.0], [9.5, 11.5, 9.0]
    # bar 1: gap up from 9.5 -> TR = 12 - 9.5 = 2.5; bar 2: 11.5 - 8 = 3.5
    assert average_true_range(highs, lows, closes, 2) == 3.0
    with pytest.raises(ValueError, match="ATR\\(5\\) needs 6 bars"):
        average_true_range(highs, lows, closes, 5)


def test_atr_distance_is_capped_at_one_and_a_half_times_the_base() -> None:
    highs, lows, closes = _bars([2.0] * 15)  # ATR 2 -> 2 x 2 = 4
    config = DynamicStopConfig()
    assert initial_stop_distance(config, D(4), highs, lows, closes) == StopDistance(D("4.0"), "atr")
    assert initial_stop_distance(config, D(2), highs, lows, closes) == StopDistance(D(3), "atr", "cap")
    assert initial_stop_distance(config, D(10), highs, lows, closes) == StopDistance(D(5), "atr", "floor")
    off = DynamicStopConfig(enabled=False)
    assert initial_stop_distance(off, D(2), highs, lows, closes) == StopDistance(D(2), "base")


def test_high_volatility_widens_the_stop() -> None:
    highs, lows, closes = _bars([1.0] * 87 + [4.0] * 14)  # ATR14 = 4, ATR100 = (86 + 56) / 100 = 1.42
    decision = initial_stop_distance(DynamicStopConfig(), D(10), highs, lows, closes)
    assert decision == StopDistance(D("10.000"), "atr_high_volatility")  # 4 x 2 x 1.25


def test_enough_similar_trades_use_their_adverse_excursion() -> None:
    class Remembered:
        def adverse_excursions(self, symbol, side, context):  # type: ignore[no-untyped-def]
            return [i / 100 for i in range(1, 21)]

    history: ExcursionHistory = Remembered()
    excursions = history.adverse_excursions("BTCUSD", PositionSide.LONG, {})
    highs, lows, closes = _bars([2.0] * 15)
    decision = initial_stop_distance(DynamicStopConfig(), D(20), highs, lows, closes, excursions, entry=D(100))
    expected = D(repr(float(np.quantile(excursions, 0.9)))) * 100 * D("1.1")  # 0.181 x 100 x 1.1
    assert decision.source == "excursion" and decision.distance == expected
    assert float(decision.distance) == pytest.approx(19.91)
    too_few = initial_stop_distance(DynamicStopConfig(), D(20), highs, lows, closes, excursions[:19], entry=D(100))
    assert too_few.source == "atr"
    assert NoExcursionHistory().adverse_excursions("X", PositionSide.SHORT, {}) == ()


def test_stop_price_is_on_the_tick_grid_and_never_closer() -> None:
    assert stop_price(PositionSide.LONG, D("100.03"), D("3.005"), D("0.01")) == D("97.02")
    assert stop_price(PositionSide.SHORT, D("100.03"), D("3.005"), D("0.01")) == D("103.04")


def test_bad_dynamic_stop_input_is_named() -> None:
    with pytest.raises(ValueError, match="cap at least 1"):
        DynamicStopConfig(cap_multiple=D("0.9"))
    with pytest.raises(ValueError, match="base stop distance must be positive"):
        initial_stop_distance(DynamicStopConfig(), D(0), [1.0], [1.0], [1.0])
