"""Strategies: bars and signals validation, hand-built scenarios, registry, and the look-ahead property."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.strategies import Bars, Decision, PositionSide, Signals, strategy_by_name, strategy_names
from tradeloom.trading.strategies import indicators as ind
from tradeloom.trading.strategies.base import exits_for_held_side
from tradeloom.trading.strategies.sma_cross import SmaCross, SmaCrossParams

DAY = 86_400_000_000_000


def bars_from_close(close: list[float] | np.ndarray, spread: float = 0.5) -> Bars:
    """Daily bars whose open is the previous close and whose range is close ± spread."""
    close = np.asarray(close, dtype=np.float64)
    opens = np.concatenate(([close[0]], close[:-1]))
    return Bars(
        ts=np.arange(len(close), dtype=np.int64) * DAY,
        open=opens,
        high=np.maximum(opens, close) + spread,
        low=np.minimum(opens, close) - spread,
        close=close,
        volume=np.ones(len(close)),
    )


def test_bars_from_frame_accepts_datetimes_iso_strings_and_int_ns() -> None:
    prices = {"open": [1.0, 2.0], "high": [2.0, 3.0], "low": [0.5, 1.5], "close": [1.5, 2.5], "volume": [10, 20]}
    expected = np.array([1_700_000_000_000_000_000, 1_700_000_060_000_000_000], dtype=np.int64)
    aware = pd.to_datetime(expected, utc=True)
    for ts in (expected, aware, aware.tz_localize(None), aware.tz_convert("America/New_York"), aware.strftime("%Y-%m-%dT%H:%M:%SZ")):
        bars = Bars.from_frame(pd.DataFrame({"ts": ts, **prices}))
        np.testing.assert_array_equal(bars.ts, expected)
    assert len(bars) == 2 and bars.volume.dtype == np.float64
    np.testing.assert_array_equal(bars.slice(1).close, [1.5])
    assert list(bars.to_frame().columns) == ["ts", "open", "high", "low", "close", "volume"]
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        bars.close[0] = 3.0


def test_bars_reject_bad_input_with_the_reason(fixtures: Path) -> None:
    good = pd.DataFrame({"ts": [0, 1], "open": [1.0, 1], "high": [1.0, 1], "low": [1.0, 1], "close": [1.0, 1], "volume": [0.0, 0]})
    with pytest.raises(ValueError, match=r"lacks columns \['volume'\]"):
        Bars.from_frame(good.drop(columns="volume"))
    with pytest.raises(ValueError, match="'close' is not finite at index 1"):
        Bars.from_frame(good.assign(close=[1.0, np.nan]))
    with pytest.raises(ValueError, match="strictly increasing; index 1"):
        Bars.from_frame(good.assign(ts=[5, 5]))
    with pytest.raises(ValueError, match="bar 0 has high 0.5 below low 1.0"):
        Bars.from_frame(good.assign(high=[0.5, 1.0]))
    with pytest.raises(ValueError, match="column 'ts'"):
        Bars.from_frame(good.assign(ts=["yesterday", "today"]))
    daily = pd.read_csv(fixtures / "backtrader" / "2006-day-001.txt").rename(columns=str.lower).rename(columns={"date": "ts"})
    bars = Bars.from_frame(daily)
    assert len(bars) == 255 and bars.ts[0] == pd.Timestamp("2006-01-02", tz="UTC").value


def test_signals_are_validated() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Signals(np.zeros(2), np.zeros(3, bool), np.zeros(2))
    with pytest.raises(ValueError, match="-1, 0 or \\+1"):
        Signals(np.array([2]), np.array([False]), np.array([0.5]))
    with pytest.raises(ValueError, match="confidence must lie in \\[0, 1\\]"):
        Signals(np.array([1]), np.array([False]), np.array([1.5]))
    with pytest.raises(ValueError, match="confidence must lie in \\[0, 1\\]"):
        Signals(np.array([1]), np.array([False]), np.array([np.nan]))


# close: SMA(2) = 4.5 3.5 2.5 2.5 4.5 6.5 5 2 from index 1; SMA(3) = 4 3 2.667 3.667 5.333 5.333 3.667 from index 2
CROSS = [5.0, 4.0, 3.0, 2.0, 3.0, 6.0, 7.0, 3.0, 1.0]


def test_sma_cross_hand_scenario_long_only() -> None:
    strategy = SmaCross({"fast": 2, "slow": 3})
    signals = strategy.signals(bars_from_close(CROSS))
    np.testing.assert_array_equal(signals.entry, [0, 0, 0, 0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(signals.exit, [0, 0, 0, 0, 0, 0, 0, 1, 0])
    std5 = np.std([3.0, 6.0, 7.0])
    assert signals.confidence[5] == pytest.approx(np.tanh((4.5 - 11.0 / 3.0) / std5), abs=1e-12)
    assert signals.confidence[:3].tolist() == [0.0, 0.0, 0.0]  # warm-up
    assert strategy.warmup == 3
    assert strategy.decide(signals, 5) == Decision(5, PositionSide.LONG, signals.confidence[5], "SMA(2) crossed above SMA(3)")
    exit_decision = strategy.decide(signals, 7)
    assert exit_decision is not None and exit_decision.is_exit and exit_decision.side is PositionSide.FLAT
    assert strategy.decide(signals, 6) is None
    with pytest.raises(IndexError, match="bar index 9 outside the 9 signals"):
        strategy.decide(signals, 9)


def test_sma_cross_with_shorts_reverses() -> None:
    strategy = strategy_by_name("sma_cross", {"fast": 2, "slow": 3, "allow_short": True})
    signals = strategy.signals(bars_from_close(CROSS))
    np.testing.assert_array_equal(signals.entry, [0, 0, 0, 0, 0, 1, 0, -1, 0])
    np.testing.assert_array_equal(signals.exit, [0, 0, 0, 0, 0, 1, 0, 1, 0])
    decision = strategy.decide(signals, 7)
    assert decision is not None and decision.side is PositionSide.SHORT and "short" in decision.reason


def test_exits_follow_the_side_the_strategy_holds() -> None:
    entry = np.array([1, 0, 0, -1, 0, 0, 0, 1], dtype=np.int8)
    exit_long = np.array([0, 0, 1, 0, 1, 0, 0, 0], dtype=bool)  # bar 4: not long any more, ignored
    exit_short = np.array([0, 1, 0, 0, 0, 1, 1, 0], dtype=bool)  # bar 1 ignored (long); bar 5 exits; bar 6 flat
    np.testing.assert_array_equal(exits_for_held_side(entry, exit_long, exit_short), [0, 0, 1, 0, 0, 1, 0, 0])
    reversal = np.array([1, -1, 1], dtype=np.int8)
    np.testing.assert_array_equal(exits_for_held_side(reversal, np.zeros(3, bool), np.zeros(3, bool)), [0, 1, 1])


def test_rsi_reversion_hand_scenario() -> None:
    # period 2, changes +1 +1 -1 -1 +1 +1 +1: Wilder gains 1, .5, .25, .625 ... losses 0, .5, .75, .375 ...
    close = [10.0, 11.0, 12.0, 11.0, 10.0, 11.0, 12.0, 13.0]
    values = ind.rsi(np.array(close), 2)
    np.testing.assert_array_equal(values[2:], [100.0, 50.0, 25.0, 62.5, 81.25, 90.625])
    strategy = strategy_by_name("rsi_reversion", {"period": 2})
    signals = strategy.signals(bars_from_close(close))
    np.testing.assert_array_equal(signals.entry, [0, 0, 0, 0, 1, 0, 0, 0])  # 25 < 30 after 50
    np.testing.assert_array_equal(signals.exit, [0, 0, 0, 0, 0, 1, 0, 0])  # 62.5 > 50 after 25
    assert signals.confidence[4] == 0.5
    decision = strategy.decide(signals, 4)
    assert decision is not None and decision.reason == "RSI(2) crossed below 30 (oversold)"
    shorts = strategy_by_name("rsi_reversion", {"period": 2, "upper": 85, "allow_short": True}).signals(bars_from_close(close))
    np.testing.assert_array_equal(shorts.entry, [0, 0, 0, 0, 1, 0, 0, -1])  # 90.625 > 85 after 81.25


def test_donchian_hand_scenario() -> None:
    close = [10.0, 10.0, 10.0, 12.0, 13.0, 11.0, 9.0, 8.0]
    bars = bars_from_close(close, spread=0.0)
    strategy = strategy_by_name("donchian_breakout", {"entry_period": 3, "exit_period": 2, "allow_short": True})
    signals = strategy.signals(bars)
    # bar 3: close 12 > max(high[0:3]) = 10; bar 4: 13 > 12; bar 6: 9 < min(low[3:5]) = 11 exits the long,
    # and 9 < min(low[3:6]) = 11 also enters short; bar 7: 8 < 9 shorts again (held, no exit)
    np.testing.assert_array_equal(signals.entry, [0, 0, 0, 1, 1, 0, -1, -1])
    np.testing.assert_array_equal(signals.exit, [0, 0, 0, 0, 0, 0, 1, 0])
    atr3 = ind.atr(bars.high, bars.low, bars.close, 3)
    assert signals.confidence[3] == pytest.approx(np.tanh(2.0 / atr3[3]))
    assert signals.confidence[5] == 0.0


def test_macd_entries_are_the_crosses_of_line_and_signal(fixtures: Path) -> None:
    daily = pd.read_csv(fixtures / "backtrader" / "2006-day-001.txt")
    bars = bars_from_close(daily["Close"].to_numpy())
    line, signal_line, _ = ind.macd(bars.close)
    expected = [t for t in range(1, len(bars)) if line[t] > signal_line[t] and line[t - 1] <= signal_line[t - 1]]
    signals = strategy_by_name("macd").signals(bars)
    assert np.flatnonzero(signals.entry == 1).tolist() == expected and expected[0] >= 34
    assert not (signals.entry == -1).any()


def test_registry_names_and_parameter_errors() -> None:
    assert strategy_names() == ["donchian_breakout", "macd", "rsi_reversion", "sma_cross"]
    with pytest.raises(ValueError, match="unknown strategy 'smacross'; known strategies: donchian_breakout, macd, rsi_reversion, sma_cross"):
        strategy_by_name("smacross")
    with pytest.raises(ValueError, match=r"(?s)invalid parameters for strategy 'sma_cross'.*fast \(50\) must be below slow \(10\)"):
        strategy_by_name("sma_cross", {"fast": 50, "slow": 10})
    with pytest.raises(ValueError, match="fastt"):
        strategy_by_name("sma_cross", {"fastt": 5})
    with pytest.raises(ValueError, match="lower < exit_level < upper"):
        strategy_by_name("rsi_reversion", {"lower": 60})
    strategy = strategy_by_name("sma_cross", {"fast": "5", "slow": "20", "allow_short": "true"})  # as the CLI passes them
    assert strategy.params == SmaCrossParams(fast=5, slow=20, allow_short=True)
    assert SmaCross(SmaCrossParams(fast=3, slow=4)).warmup == 4
    with pytest.raises(TypeError, match="must be a dict or SmaCrossParams"):
        SmaCross([("fast", 3)])  # type: ignore[arg-type]


ALL = [(name, short) for name in ("sma_cross", "rsi_reversion", "donchian_breakout", "macd") for short in (False, True)]
SMALL = {
    "sma_cross": {"fast": 3, "slow": 8},
    "rsi_reversion": {"period": 4},
    "donchian_breakout": {"entry_period": 5, "exit_period": 3},
    "macd": {"fast": 3, "slow": 6, "signal": 3},
}


def random_walk_bars(seed: int, n: int) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    opens = np.concatenate(([100.0], close[:-1]))
    wiggle = np.abs(rng.normal(0.0, 0.01, (2, n))) * close
    return Bars(
        ts=1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 60_000_000_000,
        open=opens,
        high=np.maximum(opens, close) + wiggle[0],
        low=np.minimum(opens, close) - wiggle[1],
        close=close,
        volume=rng.integers(1, 1000, n).astype(float),
    )


@pytest.mark.parametrize(("name", "allow_short"), ALL)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 160), data=st.data())
def test_no_look_ahead(name: str, allow_short: bool, seed: int, n: int, data: st.DataObject) -> None:
    """The signal at bar t is the same whether the data ends at t or continues."""
    bars = random_walk_bars(seed, n)
    t = data.draw(st.integers(0, n - 1), label="t")
    strategy = strategy_by_name(name, {**SMALL[name], "allow_short": allow_short})
    whole, cut = strategy.signals(bars), strategy.signals(bars.slice(t + 1))
    np.testing.assert_array_equal(cut.entry, whole.entry[: t + 1])
    np.testing.assert_array_equal(cut.exit, whole.exit[: t + 1])
    np.testing.assert_array_equal(cut.confidence, whole.confidence[: t + 1])
    assert strategy.decide(cut, t) == strategy.decide(whole, t)


@pytest.mark.parametrize(("name", "allow_short"), ALL)
def test_signal_invariants_on_a_long_walk(name: str, allow_short: bool) -> None:
    bars = random_walk_bars(11, 3000)
    strategy = strategy_by_name(name, {**SMALL[name], "allow_short": allow_short})
    signals = strategy.signals(bars)
    assert not signals.entry[: strategy.warmup].any() and not signals.exit[: strategy.warmup].any()
    assert (signals.entry == 1).sum() > 10 and signals.exit.sum() > 10  # the scenario really trades
    assert ((signals.entry == -1).sum() > 0) == allow_short
    assert ((signals.confidence >= 0) & (signals.confidence <= 1)).all()
    assert (signals.confidence[signals.entry != 0] > 0).all()
