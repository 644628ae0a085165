"""SMA crossover: long when the fast average crosses above the slow one, out when it crosses below."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.trading.strategies import indicators as ind
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy, bounded_strength


class SmaCrossParams(BaseModel):
    """Parameters of the SMA crossover."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fast: int = Field(10, ge=1, le=10_000, description="bars in the fast average")
    slow: int = Field(50, ge=2, le=50_000, description="bars in the slow average")
    allow_short: bool = Field(False, description="also go short on a cross down")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        return self


class SmaCross(Strategy):
    """Entry +1 at t when SMA(fast) > SMA(slow) at t and SMA(fast) <= SMA(slow) at t-1; exit on the mirror cross.

    With ``allow_short`` the cross down also enters short and the cross up exits it.
    Confidence: tanh(|SMA(fast) - SMA(slow)| / std(close, slow)), the gap between the
    averages in units of the recent price dispersion, so a decisive cross scores higher.
    """

    name = "sma_cross"
    Params = SmaCrossParams
    params: SmaCrossParams

    @property
    def warmup(self) -> int:
        """The slow average starts at slow-1 and a cross needs the bar before, so the first signal is at ``slow``."""
        return self.params.slow

    def _signals(self, bars: Bars) -> Signals:
        p = self.params
        fast, slow = ind.sma(bars.close, p.fast), ind.sma(bars.close, p.slow)
        up, down = ind.crossed_above(fast, slow), ind.crossed_below(fast, slow)
        entry = up.astype(np.int8)
        exit_ = down.copy()
        if p.allow_short:
            entry[down] = -1
            exit_ |= up
        confidence = bounded_strength(fast - slow, ind.rolling_std(bars.close, p.slow))
        return Signals(entry, exit_, confidence)

    def reason(self, side: PositionSide) -> str:
        """The crossing that produced ``side``."""
        p = self.params
        if side is PositionSide.LONG:
            return f"SMA({p.fast}) crossed above SMA({p.slow})"
        if side is PositionSide.SHORT:
            return f"SMA({p.fast}) crossed below SMA({p.slow}), short"
        return f"SMA({p.fast}) crossed {'back through' if p.allow_short else 'below'} SMA({p.slow})"
