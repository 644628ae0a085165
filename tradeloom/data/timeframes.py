"""Bar timeframes: parsing names such as ``1m`` or ``1d`` and their length on the UTC grid."""

from __future__ import annotations

import numpy as np

_UNIT_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}
SUPPORTED = ("1m", "2m", "5m", "15m", "30m", "1h", "4h", "1d")


def timeframe_ns(timeframe: str) -> int:
    """The length of one bar of ``timeframe`` in nanoseconds; ValueError for an unknown name."""
    if timeframe not in SUPPORTED:
        raise ValueError(f"unknown timeframe {timeframe!r}; supported: {', '.join(SUPPORTED)}")
    return int(timeframe[:-1]) * _UNIT_NS[timeframe[-1]]


def floor_to_grid(ts_ns: np.ndarray, timeframe: str) -> np.ndarray:
    """Each UTC nanosecond timestamp floored to the start of its ``timeframe`` bar."""
    step = timeframe_ns(timeframe)
    return ts_ns - np.mod(ts_ns, step)
