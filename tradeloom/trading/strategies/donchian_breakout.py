"""Donchian breakout (turtle style): long on a close above the prior N-bar high, out below the prior M-bar low."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.trading.strategies import indicators as ind
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy, bounded_strength, exits_for_held_side


class DonchianBreakoutParams(BaseModel):
    """Parameters of the Donchian breakout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_period: int = Field(20, ge=2, le=10_000, description="bars in the breakout channel")
    exit_period: int = Field(10, ge=1, le=10_000, description="bars in the exit channel")
    allow_short: bool = Field(False, description="also go short on a break of the channel low")


class DonchianBreakout(Strategy):
    """Entry +1 when close[t] > the highest high of bars t-N..t-1; -1 (if shorts allowed) when below their lowest low.

    Channels exclude the current bar, so a breakout is a close beyond the prior range.
    A long exits when close[t] < the lowest low of bars t-M..t-1; a short when above the highest high.
    Confidence: tanh(distance beyond the broken band / ATR(N)), 0 inside the channel.
    """

    name = "donchian_breakout"
    Params = DonchianBreakoutParams
    params: DonchianBreakoutParams

    @property
    def warmup(self) -> int:
        """The prior channels and ATR(N) are first defined at index max(N, M)."""
        return max(self.params.entry_period, self.params.exit_period)

    def _signals(self, bars: Bars) -> Signals:
        p = self.params
        upper = ind.shifted(ind.rolling_max(bars.high, p.entry_period))
        lower = ind.shifted(ind.rolling_min(bars.low, p.entry_period))
        exit_upper = ind.shifted(ind.rolling_max(bars.high, p.exit_period))
        exit_lower = ind.shifted(ind.rolling_min(bars.low, p.exit_period))
        close = bars.close
        entry = np.zeros(len(bars), dtype=np.int8)
        breakout_up, breakout_down = close > upper, close < lower
        entry[breakout_up] = 1
        if p.allow_short:
            entry[breakout_down] = -1
        exit_ = exits_for_held_side(entry, close < exit_lower, close > exit_upper)
        beyond = np.where(breakout_up, close - upper, np.where(breakout_down, lower - close, 0.0))
        confidence = bounded_strength(beyond, ind.atr(bars.high, bars.low, close, p.entry_period))
        return Signals(entry, exit_, confidence)

    def reason(self, side: PositionSide) -> str:
        """The channel broken."""
        p = self.params
        if side is PositionSide.LONG:
            return f"close broke above the {p.entry_period}-bar high"
        if side is PositionSide.SHORT:
            return f"close broke below the {p.entry_period}-bar low"
        return f"close broke back through the {p.exit_period}-bar exit channel"
