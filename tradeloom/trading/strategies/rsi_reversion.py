"""RSI mean reversion: long when RSI drops into oversold, out when it recovers to the exit level."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.trading.strategies import indicators as ind
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy, exits_for_held_side


class RsiReversionParams(BaseModel):
    """Parameters of the RSI mean reversion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: int = Field(14, ge=2, le=1_000, description="Wilder RSI period")
    lower: float = Field(30.0, gt=0, lt=100, description="oversold level: crossing below it enters long")
    upper: float = Field(70.0, gt=0, lt=100, description="overbought level: crossing above it enters short")
    exit_level: float = Field(50.0, gt=0, lt=100, description="the mean the RSI reverts to: reaching it exits")
    allow_short: bool = Field(False, description="also go short when overbought")

    @model_validator(mode="after")
    def _ordered_levels(self) -> RsiReversionParams:
        if not self.lower < self.exit_level < self.upper:
            raise ValueError(f"need lower < exit_level < upper, got {self.lower}, {self.exit_level}, {self.upper}")
        return self


class RsiReversion(Strategy):
    """Entry +1 when RSI crosses below ``lower``; -1 (if shorts allowed) when it crosses above ``upper``.

    A long exits when RSI crosses above ``exit_level``, a short when it crosses below it
    (exits follow the side the strategy's own entries hold).
    Confidence: |RSI - 50| / 50, how stretched the market is.
    """

    name = "rsi_reversion"
    Params = RsiReversionParams
    params: RsiReversionParams

    @property
    def warmup(self) -> int:
        """RSI starts at index ``period`` and a cross needs the bar before."""
        return self.params.period + 1

    def _signals(self, bars: Bars) -> Signals:
        p = self.params
        value = ind.rsi(bars.close, p.period)
        n = len(bars)
        entry = np.zeros(n, dtype=np.int8)
        entry[ind.crossed_below(value, np.full(n, p.lower))] = 1
        if p.allow_short:
            entry[ind.crossed_above(value, np.full(n, p.upper))] = -1
        level = np.full(n, p.exit_level)
        exit_ = exits_for_held_side(entry, ind.crossed_above(value, level), ind.crossed_below(value, level))
        confidence = np.nan_to_num(np.abs(value - 50.0) / 50.0, nan=0.0)
        return Signals(entry, exit_, confidence)

    def reason(self, side: PositionSide) -> str:
        """The RSI level crossed."""
        p = self.params
        if side is PositionSide.LONG:
            return f"RSI({p.period}) crossed below {p.lower:g} (oversold)"
        if side is PositionSide.SHORT:
            return f"RSI({p.period}) crossed above {p.upper:g} (overbought)"
        return f"RSI({p.period}) reverted through {p.exit_level:g}"
