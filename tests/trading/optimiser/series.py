"""Small price series for the optimiser tests."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.strategies.base import Bars

HOUR = 3600 * 10**9
START = 1_549_238_400 * 10**9  # 2019-02-04T00:00Z
INSTRUMENT = Instrument("TEST", InstrumentKind.SPOT, "TST", "USD", Decimal("0.01"), Decimal("0.0001"))
# Hand-checked with SMA(2)/SMA(3): a cross up at bar 4 enters at bar 5's open (101), the cross down at bar 9
# exits at bar 10's open (102); the cross up at bar 14 enters at 101 and the 4% target (105.04) fills in bar 19.
HAND_CLOSES = [100, 100, 100, 100, 101, 102, 103, 104, 103, 102, 101, 100, 100, 100, 101, 102, 103, 104, 105, 106]


def hand_bars() -> Bars:
    """The hand-checked series: hourly bars, open = previous close, high/low = max/min of open and close."""
    close = np.array(HAND_CLOSES, dtype=float)
    open_ = np.concatenate(([close[0]], close[:-1]))
    return Bars(START + np.arange(len(close), dtype=np.int64) * HOUR, open_, np.maximum(open_, close),
                np.minimum(open_, close), close, np.full(len(close), 1000.0))


def random_walk(n: int, seed: int) -> Bars:
    """A seeded random walk of ``n`` hourly bars with wicks."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.006, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    wick = np.abs(rng.normal(0, 0.002, n)) * close
    return Bars(START + np.arange(n, dtype=np.int64) * HOUR, open_, np.maximum(open_, close) + wick,
                np.minimum(open_, close) - wick, close, rng.uniform(500, 1500, n))
