"""Indicators: backtrader's published values on its own fixture, hand-computed cases, and causality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.strategies import indicators as ind


@pytest.fixture(scope="module")
def daily(fixtures: Path) -> pd.DataFrame:
    """backtrader's 2006-day-001.txt: 255 daily bars."""
    return pd.read_csv(fixtures / "backtrader" / "2006-day-001.txt")


def checkpoints(values: np.ndarray, min_period: int) -> list[str]:
    """backtrader's testcommon check points: [0, -l+minperiod, (-l+minperiod)//2] counted back from the last bar."""
    last, span = len(values) - 1, -len(values) + min_period
    return ["%f" % values[last + k] for k in (0, span, span // 2)]


def test_sma30_matches_backtrader(daily: pd.DataFrame) -> None:
    values = ind.sma(daily["Close"].to_numpy(), 30)
    # (-255+30)//2 = -113: the middle check point is index 141, not 29 + 226//2 = 142
    assert ["%f" % values[i] for i in (254, 29, 141)] == ["4063.463000", "3644.444667", "3554.693333"]
    assert checkpoints(values, 30) == ["4063.463000", "3644.444667", "3554.693333"]
    assert np.isnan(values[:29]).all() and not np.isnan(values[29:]).any()


def test_ema_rsi_atr_macd_extremes_match_backtrader(daily: pd.DataFrame) -> None:
    close, high, low = (daily[c].to_numpy() for c in ("Close", "High", "Low"))
    assert checkpoints(ind.ema(close, 30), 30) == ["4070.115719", "3644.444667", "3581.728712"]
    assert checkpoints(ind.rsi(close, 14), 15) == ["57.644284", "41.630968", "53.352553"]
    assert checkpoints(ind.atr(high, low, close, 14), 15) == ["35.866308", "34.264286", "54.329064"]
    line, signal, histogram = ind.macd(close, 12, 26, 9)
    assert checkpoints(line, 34) == ["25.821368", "32.469404", "1.772445"]
    assert checkpoints(signal, 34) == ["21.977853", "26.469735", "-2.845646"]
    assert checkpoints(histogram, 34) == ["3.843516", "5.999669", "4.618090"]
    assert checkpoints(ind.rolling_max(close, 14), 14) == ["4140.660000", "3671.780000", "3670.750000"]
    assert checkpoints(ind.rolling_min(close, 14), 14) == ["4019.890000", "3570.170000", "3506.070000"]


def test_hand_computed_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(ind.sma(x, 2), [np.nan, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_array_equal(ind.ema(x, 3), [np.nan, np.nan, 2.0, 3.0, 4.0])  # seed mean(1,2,3), alpha 1/2
    np.testing.assert_array_equal(ind.rsi(x, 2), [np.nan, np.nan, 100.0, 100.0, 100.0])
    np.testing.assert_array_equal(ind.rsi(np.full(5, 7.0), 2), [np.nan, np.nan, 50.0, 50.0, 50.0])
    # changes +2, -1, +1: seed gain (2+0)/2=1, loss (0+1)/2=0.5 -> 100*1/1.5; then gain 1.5/2... Wilder alpha 1/2
    rsi = ind.rsi(np.array([10.0, 12.0, 11.0, 12.0]), 2)
    assert rsi[2] == pytest.approx(100 * 1 / 1.5, abs=1e-12)
    assert rsi[3] == pytest.approx(100 * 1.0 / (1.0 + 0.25), abs=1e-12)  # gain (1+1)/2=1, loss 0.5/2=0.25
    high, low, close = np.array([10.0, 12.0, 11.0]), np.array([9.0, 10.5, 8.0]), np.array([9.5, 11.0, 9.0])
    np.testing.assert_array_equal(ind.true_range(high, low, close), [np.nan, 2.5, 3.0])
    np.testing.assert_array_equal(ind.atr(high, low, close, 2), [np.nan, np.nan, 2.75])
    upper, lower, middle = ind.donchian(high, low, 2)
    np.testing.assert_array_equal(upper, [np.nan, 12.0, 12.0])
    np.testing.assert_array_equal(lower, [np.nan, 9.0, 8.0])
    np.testing.assert_array_equal(middle, [np.nan, 10.5, 10.0])
    np.testing.assert_array_equal(ind.volume_ratio(np.array([1.0, 1.0, 2.0, 4.0]), 2), [np.nan, np.nan, 2.0, 4.0 / 1.5])
    assert np.isnan(ind.volume_ratio(np.zeros(5), 2)).all()  # no average volume: undefined, not infinite
    np.testing.assert_array_equal(ind.shifted(x, 2), [np.nan, np.nan, 1.0, 2.0, 3.0])
    a, b = np.array([1.0, 2.0, 3.0, 2.0, 2.0]), np.full(5, 2.0)
    np.testing.assert_array_equal(ind.crossed_above(a, b), [False, False, True, False, False])
    np.testing.assert_array_equal(ind.crossed_below(a, b), [False, False, False, False, False])
    np.testing.assert_array_equal(ind.crossed_below(a, np.full(5, 2.5)), [False, False, False, True, False])


def test_short_input_is_all_nan() -> None:
    x = np.array([1.0, 2.0])
    for values in (ind.sma(x, 3), ind.ema(x, 3), ind.rsi(x, 2), ind.rolling_max(x, 3), ind.rolling_std(x, 3)):
        assert len(values) == 2 and np.isnan(values).all()


def test_rolling_std_equals_numpy_population_std() -> None:
    rng = np.random.default_rng(7)
    x = 1000.0 + np.cumsum(rng.normal(size=5000))
    windows = np.lib.stride_tricks.sliding_window_view(x, 20)
    np.testing.assert_allclose(ind.rolling_std(x, 20)[19:], windows.std(axis=1), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("period", [0, -3, 2.5, True])
def test_bad_period_is_rejected(period: object) -> None:
    with pytest.raises(ValueError, match="period must be a positive integer"):
        ind.sma(np.ones(5), period)  # type: ignore[arg-type]


def test_bad_shapes_and_macd_periods_are_rejected() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        ind.sma(np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="fast period 26 must be below the slow period 12"):
        ind.macd(np.ones(50), 26, 12)
    with pytest.raises(ValueError, match="causal shift"):
        ind.shifted(np.ones(3), -1)


walks = st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=2, max_size=120).map(
    lambda steps: 100.0 + np.cumsum(np.asarray(steps))
)


@settings(max_examples=60, deadline=None)
@given(walk=walks, cut=st.integers(1, 120), period=st.integers(1, 12))
def test_indicators_are_causal(walk: np.ndarray, cut: int, period: int) -> None:
    """The value at t is the same whether the series ends at t or continues."""
    cut = min(cut, len(walk))
    high, low = walk + 0.5, walk - 0.5
    cases = {
        "sma": lambda x, h, lo: ind.sma(x, period),
        "ema": lambda x, h, lo: ind.ema(x, period),
        "rsi": lambda x, h, lo: ind.rsi(x, period),
        "atr": lambda x, h, lo: ind.atr(h, lo, x, period),
        "macd": lambda x, h, lo: ind.macd(x, period, period + 3, 2)[2],
        "std": lambda x, h, lo: ind.rolling_std(x, period),
        "max": lambda x, h, lo: ind.rolling_max(h, period),
        "volume": lambda x, h, lo: ind.volume_ratio(h, period),
    }
    for name, fn in cases.items():
        whole, prefix = fn(walk, high, low), fn(walk[:cut], high[:cut], low[:cut])
        np.testing.assert_array_equal(prefix, whole[:cut], err_msg=name)
