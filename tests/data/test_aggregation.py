"""Ticks to bars and bar roll-ups, against hand-computed values and Dukascopy's own minute candles."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.data.aggregation import (
    BarArrays,
    bars_from_tick_frame,
    bars_from_ticks,
    flat_mask,
    mid_bars,
    resample_bars,
    side_prices,
)
from tradeloom.data.sources.dukascopy import DukascopySource
from tradeloom.data.sources.transport import DirectoryFetcher

T0 = 1_549_238_400_000_000_000  # 2019-02-04T00:00Z in ns
S = 1_000_000_000
M = 60 * S


def test_ticks_to_one_minute_bars_by_hand() -> None:
    ts = np.array([T0 + 1 * S, T0 + 20 * S, T0 + 59 * S, T0 + M + 5 * S, T0 + 3 * M], dtype="int64")
    price = np.array([1.10, 1.30, 1.20, 1.25, 1.05])
    volume = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    bars = bars_from_ticks(ts, price, volume, "1m")
    assert bars.ts_ns.tolist() == [T0, T0 + M, T0 + 3 * M]  # minute 2 has no tick, so no bar
    assert bars.open.tolist() == [1.10, 1.25, 1.05]
    assert bars.high.tolist() == [1.30, 1.25, 1.05]
    assert bars.low.tolist() == [1.10, 1.25, 1.05]
    assert bars.close.tolist() == [1.20, 1.25, 1.05]
    assert bars.volume.tolist() == [6.0, 4.0, 5.0]


def test_mid_side_is_mean_price_and_summed_volume() -> None:
    price, volume = side_prices(np.array([1.0, 2.0]), np.array([1.5, 2.5]), np.array([1.0, 1.0]),
                                np.array([2.0, 3.0]), "mid")
    assert price.tolist() == [1.25, 2.25]
    assert volume.tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="unknown price side 'last'"):
        side_prices(price, price, volume, volume, "last")


def test_resample_to_five_minutes_by_hand() -> None:
    minutes = BarArrays(
        ts_ns=np.array([T0, T0 + M, T0 + 4 * M, T0 + 5 * M, T0 + 9 * M], dtype="int64"),
        open=np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        high=np.array([1.5, 2.5, 3.5, 4.5, 5.5]),
        low=np.array([0.5, 1.5, 2.5, 3.5, 4.5]),
        close=np.array([1.2, 2.2, 3.2, 4.2, 5.2]),
        volume=np.array([1.0, 1.0, 1.0, 1.0, 1.0]),
    )
    bars = resample_bars(minutes, "5m")
    assert bars.ts_ns.tolist() == [T0, T0 + 5 * M]
    assert bars.open.tolist() == [1.0, 4.0]
    assert bars.high.tolist() == [3.5, 5.5]
    assert bars.low.tolist() == [0.5, 3.5]
    assert bars.close.tolist() == [3.2, 5.2]
    assert bars.volume.tolist() == [3.0, 2.0]


def test_unsorted_ticks_are_refused_with_the_row() -> None:
    ts = np.array([T0 + 2 * S, T0 + S], dtype="int64")
    with pytest.raises(ValueError, match="row 1 goes back in time"):
        bars_from_ticks(ts, np.ones(2), np.ones(2), "1m")


def test_unknown_timeframe_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown timeframe '7m'"):
        bars_from_ticks(np.array([T0]), np.ones(1), np.ones(1), "7m")


def test_flat_mask_needs_zero_volume_and_one_price() -> None:
    bars = BarArrays(np.array([T0, T0 + M, T0 + 2 * M]), np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.1]),
                     np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0]), np.array([0.0, 2.0, 0.0]))
    assert flat_mask(bars).tolist() == [True, False, False]


def test_mid_bars_need_matching_timestamps() -> None:
    one = BarArrays(np.array([T0]), *(np.ones(1) for _ in range(5)))
    other = BarArrays(np.array([T0 + M]), *(np.ones(1) for _ in range(5)))
    with pytest.raises(ValueError, match="same timestamps"):
        mid_bars(one, other)


@pytest.mark.parametrize("side", ["bid", "ask"])
def test_tick_bars_equal_dukascopy_minute_candles(fixtures: Path, side: str) -> None:
    """Aggregating the real 00h ticks gives exactly the vendor's own 1m candles for that hour."""
    source = DukascopySource(DirectoryFetcher(fixtures / "dukascopy" / "datafeed"), api="legacy", price_side=side)
    start, end = datetime(2019, 2, 4, 0, tzinfo=timezone.utc), datetime(2019, 2, 4, 1, tzinfo=timezone.utc)
    ticks = source.fetch_ticks("EURUSD", start, end).frame
    from_ticks = bars_from_tick_frame(ticks, "1m", side, "dukascopy")
    candles = source.fetch_bars("EURUSD", "1m", start, end).frame
    assert len(from_ticks) == 60
    for column in ("ts", "open", "high", "low", "close"):
        assert from_ticks[column].tolist() == candles[column].tolist()
    # Tick volumes are float32 sums; the candle's volume is its own float32.
    np.testing.assert_allclose(from_ticks["volume"], candles["volume"], rtol=1e-6)
    first = from_ticks.iloc[0]
    if side == "bid":
        assert (first.open, first.high, first.low, first.close) == (1.14543, 1.14570, 1.14542, 1.14569)
    else:
        assert (first.open, first.high, first.low, first.close) == (1.14545, 1.14574, 1.14545, 1.14574)


def test_tick_frame_of_two_symbols_is_refused() -> None:
    ticks = pd.DataFrame({"symbol": ["A", "B"], "ts": pd.to_datetime([T0, T0 + S], utc=True),
                          "bid": [1.0, 1.0], "ask": [1.0, 1.0], "bid_volume": [1.0, 1.0], "ask_volume": [1.0, 1.0]})
    with pytest.raises(ValueError, match="one symbol"):
        bars_from_tick_frame(ticks, "1m", "bid", "x")


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=4 * 3600 * S), min_size=1, max_size=300),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    timeframe=st.sampled_from(["1m", "5m", "1h"]),
)
@settings(max_examples=60, deadline=None)
def test_bar_invariants_on_random_ticks(offsets: list[int], seed: int, timeframe: str) -> None:
    """Any time-ordered ticks: high >= open/close >= low, volume conserved, one bar per occupied bucket."""
    ts = T0 + np.sort(np.asarray(offsets, dtype="int64"))
    rng = np.random.default_rng(seed)
    price = 1.0 + rng.random(len(ts))
    volume = rng.random(len(ts))
    bars = bars_from_ticks(ts, price, volume, timeframe)
    assert bool(np.all(bars.high >= np.maximum(bars.open, bars.close)))
    assert bool(np.all(bars.low <= np.minimum(bars.open, bars.close)))
    assert bars.volume.sum() == pytest.approx(volume.sum())
    step = {"1m": M, "5m": 5 * M, "1h": 60 * M}[timeframe]
    assert bars.ts_ns.tolist() == sorted(set((ts - ts % step).tolist()))
    rolled = resample_bars(bars_from_ticks(ts, price, volume, "1m"), timeframe)
    for column in ("ts_ns", "open", "high", "low", "close"):
        assert getattr(rolled, column).tolist() == getattr(bars, column).tolist()
