"""A strategy assembled from rules, so evolution can change which indicators, thresholds, entries and exits it uses.

Long only. Entry: every entry rule holds at bar t (AND). Exit: any exit rule holds (OR).
Each rule is one condition on one indicator:

- ``sma_cross_up`` / ``sma_cross_down``: SMA(period) crosses above / below SMA(period2)
- ``close_above_sma`` / ``close_below_sma``: the close is above / below SMA(period)
- ``rsi_below`` / ``rsi_above``: RSI(period) is below / above ``threshold``
- ``breakout_up`` / ``breakout_down``: the close breaks the previous ``period`` bars' high / low
- ``macd_cross_up`` / ``macd_cross_down``: MACD(period, period2) crosses above / below its 9-bar signal
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.trading.strategies import indicators as ind
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy

RuleKind = Literal[
    "sma_cross_up", "sma_cross_down", "close_above_sma", "close_below_sma", "rsi_below", "rsi_above",
    "breakout_up", "breakout_down", "macd_cross_up", "macd_cross_down",
]
RULE_KINDS: tuple[str, ...] = RuleKind.__args__  # type: ignore[attr-defined]
TWO_PERIODS = {"sma_cross_up", "sma_cross_down", "macd_cross_up", "macd_cross_down"}
THRESHOLD = {"rsi_below", "rsi_above"}
MACD_SIGNAL = 9


class Rule(BaseModel):
    """One condition: an indicator kind, its period(s) and, for RSI, a threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RuleKind
    period: int = Field(10, ge=2, le=1_000)
    period2: int = Field(30, ge=3, le=2_000, description="the slow period of a cross (ignored otherwise)")
    threshold: float = Field(50.0, gt=0, lt=100, description="the RSI level (ignored otherwise)")

    @model_validator(mode="after")
    def _ordered(self) -> Rule:
        if self.kind in TWO_PERIODS and self.period >= self.period2:
            raise ValueError(f"rule {self.kind}: period ({self.period}) must be below period2 ({self.period2})")
        return self

    @property
    def bars_needed(self) -> int:
        """Bars before the rule can first hold."""
        if self.kind.startswith("macd"):
            return self.period2 + MACD_SIGNAL + 1
        return (self.period2 if self.kind in TWO_PERIODS else self.period) + 1

    def describe(self) -> str:
        """The rule in words, e.g. ``RSI(14) < 30``."""
        k, p, q = self.kind, self.period, self.period2
        words = {
            "sma_cross_up": f"SMA({p}) crosses above SMA({q})", "sma_cross_down": f"SMA({p}) crosses below SMA({q})",
            "close_above_sma": f"close > SMA({p})", "close_below_sma": f"close < SMA({p})",
            "rsi_below": f"RSI({p}) < {self.threshold:g}", "rsi_above": f"RSI({p}) > {self.threshold:g}",
            "breakout_up": f"close > {p}-bar high", "breakout_down": f"close < {p}-bar low",
            "macd_cross_up": f"MACD({p},{q}) crosses above signal", "macd_cross_down": f"MACD({p},{q}) crosses below signal",
        }
        return words[k]

    def holds(self, bars: Bars) -> np.ndarray:
        """Where the condition holds, causally (bar t uses bars up to t)."""
        close, k = bars.close, self.kind
        if k in ("sma_cross_up", "sma_cross_down"):
            fast, slow = ind.sma(close, self.period), ind.sma(close, self.period2)
            return ind.crossed_above(fast, slow) if k == "sma_cross_up" else ind.crossed_below(fast, slow)
        if k in ("close_above_sma", "close_below_sma"):
            average = ind.sma(close, self.period)
            with np.errstate(invalid="ignore"):
                return close > average if k == "close_above_sma" else close < average
        if k in ("rsi_below", "rsi_above"):
            value = ind.rsi(close, self.period)
            with np.errstate(invalid="ignore"):
                return value < self.threshold if k == "rsi_below" else value > self.threshold
        if k in ("breakout_up", "breakout_down"):
            with np.errstate(invalid="ignore"):
                if k == "breakout_up":
                    return close > ind.shifted(ind.rolling_max(bars.high, self.period))
                return close < ind.shifted(ind.rolling_min(bars.low, self.period))
        line, signal, _ = ind.macd(close, self.period, self.period2, MACD_SIGNAL)
        return ind.crossed_above(line, signal) if k == "macd_cross_up" else ind.crossed_below(line, signal)


class RuleParams(BaseModel):
    """Entry rules (all must hold) and exit rules (any one exits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: tuple[Rule, ...] = Field((Rule(kind="sma_cross_up", period=10, period2=30),), min_length=1, max_length=3)
    exit: tuple[Rule, ...] = Field((Rule(kind="sma_cross_down", period=10, period2=30),), min_length=1, max_length=2)


class RuleStrategy(Strategy):
    """Long when all entry rules hold, out when any exit rule holds; confidence 1."""

    name = "rules"
    Params = RuleParams
    params: RuleParams

    @property
    def warmup(self) -> int:
        """The longest look-back of any rule."""
        return max(rule.bars_needed for rule in (*self.params.entry, *self.params.exit))

    def _signals(self, bars: Bars) -> Signals:
        n = len(bars)
        entering = np.ones(n, dtype=np.bool_)
        for rule in self.params.entry:
            entering &= rule.holds(bars)
        leaving = np.zeros(n, dtype=np.bool_)
        for rule in self.params.exit:
            leaving |= rule.holds(bars)
        entry = entering.astype(np.int8)
        return Signals(entry, leaving & ~entering, np.ones(n, dtype=np.float64))

    def reason(self, side: PositionSide) -> str:
        """The rules that fired, in words."""
        if side is PositionSide.LONG:
            return "entry: " + " and ".join(rule.describe() for rule in self.params.entry)
        return "exit: " + " or ".join(rule.describe() for rule in self.params.exit)
