"""Ticks to bars and fine bars to coarser bars, vectorised with numpy (no Python loop per tick).

Bars are built on the UTC grid of their timeframe (see ``tradeloom.data.timeframes``):
open = first price, high = max, low = min, close = last price, volume = sum. Only buckets
that hold at least one tick (or one finer bar) produce a bar; empty buckets are absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from tradeloom.data.frames import bars_frame, constant_labels
from tradeloom.data.timeframes import floor_to_grid, timeframe_ns

PriceSide = Literal["bid", "ask", "mid"]
PRICE_SIDES: tuple[str, ...] = ("bid", "ask", "mid")


@dataclass(frozen=True)
class BarArrays:
    """Bars as parallel numpy columns; ``ts_ns`` is the bar start in UTC nanoseconds."""

    ts_ns: np.ndarray  # int64
    open: np.ndarray  # float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_ns)

    def take(self, selector: np.ndarray | slice) -> BarArrays:
        """The bars picked by a boolean mask, index array or slice."""
        return BarArrays(*(column[selector] for column in self.columns()))

    def columns(self) -> tuple[np.ndarray, ...]:
        """The six columns in field order."""
        return (self.ts_ns, self.open, self.high, self.low, self.close, self.volume)

    @staticmethod
    def empty() -> BarArrays:
        """No bars."""
        return BarArrays(np.empty(0, "int64"), *(np.empty(0, "float64") for _ in range(5)))

    @staticmethod
    def concat(parts: list[BarArrays]) -> BarArrays:
        """The bars of ``parts`` one after the other."""
        if not parts:
            return BarArrays.empty()
        if len(parts) == 1:
            return parts[0]
        return BarArrays(*(np.concatenate(columns) for columns in zip(*(p.columns() for p in parts))))


def side_prices(
    bid: np.ndarray, ask: np.ndarray, bid_volume: np.ndarray, ask_volume: np.ndarray, side: str
) -> tuple[np.ndarray, np.ndarray]:
    """The price and volume series of ``side``: bid, ask, or mid (mean price, summed volume)."""
    if side == "bid":
        return bid, bid_volume
    if side == "ask":
        return ask, ask_volume
    if side == "mid":
        return (bid + ask) / 2.0, bid_volume + ask_volume
    raise ValueError(f"unknown price side {side!r}; expected one of {', '.join(PRICE_SIDES)}")


def _group_starts(keys: np.ndarray) -> np.ndarray:
    change = np.empty(len(keys), dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    return np.flatnonzero(change)


def _check_sorted(ts_ns: np.ndarray, what: str) -> None:
    if len(ts_ns) > 1 and bool(np.any(ts_ns[1:] < ts_ns[:-1])):
        first = int(np.flatnonzero(ts_ns[1:] < ts_ns[:-1])[0])
        raise ValueError(f"{what} timestamps must be non-decreasing; row {first + 1} goes back in time")


def bars_from_ticks(ts_ns: np.ndarray, price: np.ndarray, volume: np.ndarray, timeframe: str) -> BarArrays:
    """OHLCV bars of ``timeframe`` from time-ordered ticks (``ts_ns`` int64 UTC nanoseconds)."""
    timeframe_ns(timeframe)  # validates the name
    ts_ns = np.asarray(ts_ns, dtype="int64")
    if not (len(ts_ns) == len(price) == len(volume)):
        raise ValueError(f"tick columns differ in length: ts {len(ts_ns)}, price {len(price)}, volume {len(volume)}")
    if len(ts_ns) == 0:
        return BarArrays.empty()
    _check_sorted(ts_ns, "tick")
    buckets = floor_to_grid(ts_ns, timeframe)
    starts = _group_starts(buckets)
    lasts = np.empty_like(starts)
    lasts[:-1] = starts[1:] - 1
    lasts[-1] = len(ts_ns) - 1
    price = np.asarray(price, dtype="float64")
    return BarArrays(
        ts_ns=buckets[starts],
        open=price[starts],
        high=np.maximum.reduceat(price, starts),
        low=np.minimum.reduceat(price, starts),
        close=price[lasts],
        volume=np.add.reduceat(np.asarray(volume, dtype="float64"), starts),
    )


def resample_bars(bars: BarArrays, timeframe: str) -> BarArrays:
    """Time-ordered finer ``bars`` rolled up into bars of ``timeframe`` on its UTC grid."""
    timeframe_ns(timeframe)  # validates the name
    if len(bars) == 0:
        return BarArrays.empty()
    _check_sorted(bars.ts_ns, "bar")
    buckets = floor_to_grid(bars.ts_ns, timeframe)
    starts = _group_starts(buckets)
    lasts = np.empty_like(starts)
    lasts[:-1] = starts[1:] - 1
    lasts[-1] = len(bars) - 1
    return BarArrays(
        ts_ns=buckets[starts],
        open=bars.open[starts],
        high=np.maximum.reduceat(bars.high, starts),
        low=np.minimum.reduceat(bars.low, starts),
        close=bars.close[lasts],
        volume=np.add.reduceat(bars.volume, starts),
    )


def flat_mask(bars: BarArrays) -> np.ndarray:
    """True for flat bars: zero volume and open = high = low = close (a closed market's filler)."""
    return (
        (bars.volume == 0.0) & (bars.open == bars.high) & (bars.open == bars.low) & (bars.open == bars.close)
    )


def mid_bars(bid: BarArrays, ask: BarArrays) -> BarArrays:
    """Mid bars from bid and ask bars with the same timestamps: mean prices, summed volume."""
    if len(bid) != len(ask) or not np.array_equal(bid.ts_ns, ask.ts_ns):
        raise ValueError("bid and ask bars must have the same timestamps to form mid bars")
    return BarArrays(
        ts_ns=bid.ts_ns,
        open=(bid.open + ask.open) / 2.0,
        high=(bid.high + ask.high) / 2.0,
        low=(bid.low + ask.low) / 2.0,
        close=(bid.close + ask.close) / 2.0,
        volume=bid.volume + ask.volume,
    )


def bars_to_frame(bars: BarArrays, symbol: str, timeframe: str, source: str) -> pd.DataFrame:
    """``bars`` in the one bar schema (``tradeloom.data.frames.BAR_COLUMNS``)."""
    frame = pd.DataFrame(
        {
            "ts": bars.ts_ns.view("datetime64[ns]"),
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        },
        copy=False,
    )
    frame.insert(0, "symbol", constant_labels(symbol, len(bars)))
    frame.insert(1, "timeframe", constant_labels(timeframe, len(bars)))
    frame["source"] = constant_labels(source, len(bars))
    return bars_frame(frame)


def bars_from_tick_frame(ticks: pd.DataFrame, timeframe: str, side: str, source: str) -> pd.DataFrame:
    """Bars of ``timeframe`` from a tick-schema frame of one symbol, priced from ``side``."""
    if len(ticks) == 0:
        return bars_frame()
    symbol = ticks["symbol"].iloc[0]
    # Compared column-wide (Arrow-backed for str), not via one Python object per row.
    if bool(np.asarray(ticks["symbol"].array != symbol).any()):
        raise ValueError(f"tick frame must hold one symbol, holds {sorted(map(str, ticks['symbol'].unique()))}")
    ts_ns = ticks["ts"].to_numpy(dtype="datetime64[ns]").view("int64")
    price, volume = side_prices(
        ticks["bid"].to_numpy(), ticks["ask"].to_numpy(),
        ticks["bid_volume"].to_numpy(), ticks["ask_volume"].to_numpy(), side,
    )
    return bars_to_frame(bars_from_ticks(ts_ns, price, volume, timeframe), str(symbol), timeframe, source)
