"""Decoded Dukascopy ticks as numpy columns, and their conversion to the tick schema."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradeloom.data.frames import constant_labels, ticks_frame


@dataclass(frozen=True)
class TickArrays:
    """Ticks as parallel numpy columns: UTC nanoseconds, prices, and raw volumes (millions for FX)."""

    ts_ns: np.ndarray  # int64
    bid: np.ndarray  # float64
    ask: np.ndarray
    bid_volume: np.ndarray
    ask_volume: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_ns)

    def take(self, selector: np.ndarray | slice) -> TickArrays:
        """The ticks picked by a boolean mask, index array or slice."""
        return TickArrays(
            self.ts_ns[selector], self.bid[selector], self.ask[selector],
            self.bid_volume[selector], self.ask_volume[selector],
        )

    def between(self, start_ns: int, end_ns: int) -> TickArrays:
        """The ticks in the half-open range [start_ns, end_ns) of these time-ordered ticks."""
        lo, hi = np.searchsorted(self.ts_ns, [start_ns, end_ns], side="left")
        return self.take(slice(int(lo), int(hi)))

    @staticmethod
    def empty() -> TickArrays:
        """No ticks."""
        return TickArrays(np.empty(0, "int64"), *(np.empty(0, "float64") for _ in range(4)))

    @staticmethod
    def concat(parts: list[TickArrays]) -> TickArrays:
        """The ticks of ``parts`` one after the other."""
        if not parts:
            return TickArrays.empty()
        if len(parts) == 1:
            return parts[0]
        return TickArrays(
            np.concatenate([p.ts_ns for p in parts]), np.concatenate([p.bid for p in parts]),
            np.concatenate([p.ask for p in parts]), np.concatenate([p.bid_volume for p in parts]),
            np.concatenate([p.ask_volume for p in parts]),
        )


def ticks_to_frame(ticks: TickArrays, symbol: str, source: str) -> pd.DataFrame:
    """``ticks`` in the one tick schema (``tradeloom.data.frames.TICK_COLUMNS``)."""
    frame = pd.DataFrame(
        {
            "ts": ticks.ts_ns.view("datetime64[ns]"),
            "bid": ticks.bid,
            "ask": ticks.ask,
            "bid_volume": ticks.bid_volume,
            "ask_volume": ticks.ask_volume,
        },
        copy=False,
    )
    frame.insert(0, "symbol", constant_labels(symbol, len(ticks)))
    frame["source"] = constant_labels(source, len(ticks))
    return ticks_frame(frame)
