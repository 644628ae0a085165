"""MACD: long when the MACD line crosses above its signal line, out when it crosses below."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.trading.strategies import indicators as ind
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy, bounded_strength


class MacdParams(BaseModel):
    """Parameters of the MACD crossover."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fast: int = Field(12, ge=1, le=10_000, description="fast EMA period")
    slow: int = Field(26, ge=2, le=50_000, description="slow EMA period")
    signal: int = Field(9, ge=1, le=10_000, description="EMA period of the signal line")
    allow_short: bool = Field(False, description="also go short on a cross down")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MacdParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        return self


class Macd(Strategy):
    """Entry +1 when the MACD line crosses above the signal line; exit (and -1 if shorts allowed) on the cross below.

    Confidence: tanh(|histogram| / std(close, slow)), the histogram in units of recent dispersion.
    """

    name = "macd"
    Params = MacdParams
    params: MacdParams

    @property
    def warmup(self) -> int:
        """The signal line starts at slow+signal-2 and a cross needs the bar before."""
        return self.params.slow + self.params.signal - 1

    def _signals(self, bars: Bars) -> Signals:
        p = self.params
        line, signal_line, histogram = ind.macd(bars.close, p.fast, p.slow, p.signal)
        up, down = ind.crossed_above(line, signal_line), ind.crossed_below(line, signal_line)
        entry = up.astype(np.int8)
        exit_ = down.copy()
        if p.allow_short:
            entry[down] = -1
            exit_ |= up
        confidence = bounded_strength(histogram, ind.rolling_std(bars.close, p.slow))
        return Signals(entry, exit_, confidence)

    def reason(self, side: PositionSide) -> str:
        """The crossing that produced ``side``."""
        p = self.params
        label = f"MACD({p.fast},{p.slow},{p.signal})"
        if side is PositionSide.LONG:
            return f"{label} crossed above its signal line"
        if side is PositionSide.SHORT:
            return f"{label} crossed below its signal line, short"
        return f"{label} crossed back through its signal line"
