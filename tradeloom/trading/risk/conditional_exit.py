"""Conditional exit: leave a winning position when at least N signs of exhaustion hold at once.

For a long the conditions are: profit above a threshold, RSI above 70, volume ratio (the
last bar's volume over the mean of the ones before) below 0.7, a MACD bearish cross on the
last bar, and price within 2% of resistance (the most recent swing high). A short mirrors
them (RSI below 30, a bullish cross, near the most recent swing low). The decision records
which conditions held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import numpy as np

from tradeloom.trading.risk.protection import PositionSide

HUNDRED = Decimal(100)
CONDITIONS = ("profit", "rsi", "volume_fading", "macd_cross", "near_swing_extreme")


@dataclass(frozen=True)
class ConditionalExitConfig:
    """Thresholds of the conditional exit."""

    enabled: bool = True
    min_conditions: int = 3
    profit_threshold_pct: Decimal = Decimal(2)
    rsi_period: int = 14
    rsi_overbought: float = 70.0
    volume_period: int = 20
    volume_ratio_below: float = 0.7
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    swing_lookback: int = 50
    swing_strength: int = 2
    near_swing_pct: float = 2.0

    def __post_init__(self) -> None:
        if not 1 <= self.min_conditions <= len(CONDITIONS):
            raise ValueError(f"conditional exit needs between 1 and {len(CONDITIONS)} conditions, got {self.min_conditions}")
        if not 50 < self.rsi_overbought < 100 or not 0 < self.volume_ratio_below or self.near_swing_pct <= 0:
            raise ValueError("RSI threshold must be in (50, 100), volume ratio and swing distance positive")
        if self.macd_fast >= self.macd_slow:
            raise ValueError("the fast MACD period must be shorter than the slow one")

    @property
    def bars_needed(self) -> int:
        """How many bars of history the signals need."""
        return max(self.rsi_period + 1, self.volume_period + 1, self.macd_slow + self.macd_signal + 1,
                   2 * self.swing_strength + 1)


@dataclass(frozen=True)
class ExitSignals:
    """Indicator values on the last bar, computed from the history the strategy may see."""

    rsi: float
    volume_ratio: float
    macd_bearish_cross: bool
    macd_bullish_cross: bool
    swing_high: float | None
    swing_low: float | None


@dataclass(frozen=True)
class ConditionalExitDecision:
    """Whether to exit, which conditions held, and how many were needed."""

    exit: bool
    held: tuple[str, ...]
    needed: int

    @property
    def reason(self) -> str:
        """The exit reason to record, e.g. ``conditional: rsi, macd_cross``."""
        return "conditional: " + ", ".join(self.held)


@lru_cache(maxsize=64)
def _ema_weights(n: int, period: int) -> np.ndarray:
    """Row i holds the weights of x[0..i] in the EMA at i (seeded with x[0]), so ema = W @ x."""
    alpha = 2.0 / (period + 1)
    i, j = np.indices((n, n))
    weights = np.where(j <= i, alpha * (1 - alpha) ** (i - j).clip(0), 0.0)
    weights[:, 0] = (1 - alpha) ** np.arange(n)
    weights.setflags(write=False)
    return weights


def _ema(values: np.ndarray, period: int) -> np.ndarray:
    """out[0] = x[0], out[i] = a x[i] + (1 - a) out[i-1], as one matrix product."""
    return _ema_weights(len(values), period) @ values


@lru_cache(maxsize=64)
def _wilder_weights(changes: int, period: int) -> np.ndarray:
    """Weights of each change in Wilder's average: a plain mean of the first ``period``, then smoothing."""
    m = changes - period
    decay = 1 - 1 / period
    weights = np.empty(changes)
    weights[:period] = decay**m / period
    weights[period:] = decay ** np.arange(m - 1, -1, -1) / period
    weights.setflags(write=False)
    return weights


def relative_strength_index(closes: np.ndarray, period: int) -> float:
    """Wilder's RSI of the last bar: a plain mean of the first ``period`` changes, then Wilder smoothing."""
    change = np.diff(closes)
    weights = _wilder_weights(len(change), period)
    avg_gain = float(weights @ np.maximum(change, 0.0))
    avg_loss = avg_gain - float(weights @ change)  # a loss is a gain minus the change
    if avg_loss <= 1e-12 * max(avg_gain, 1e-300):
        return 100.0 if avg_gain > 0 else 50.0
    return float(100 - 100 / (1 + avg_gain / avg_loss))


def _swing(values: np.ndarray, strength: int, lookback: int, highest: bool) -> float | None:
    """The most recent value that is the extreme of ``strength`` bars on each side, within ``lookback``."""
    window = values[-lookback:]
    if len(window) < 2 * strength + 1:
        return None
    span = len(window) - 2 * strength
    pick = np.maximum if highest else np.minimum
    extremes = window[:span]
    for shift in range(1, 2 * strength + 1):
        extremes = pick(extremes, window[shift:shift + span])
    centres = window[strength:strength + span]
    hits = np.flatnonzero(centres == extremes)
    return float(centres[hits[-1]]) if len(hits) else None


def exit_signals(
    config: ConditionalExitConfig,
    highs: Sequence[float],
    lows: Sequence[float],
    closes: Sequence[float],
    volumes: Sequence[float],
) -> ExitSignals:
    """The indicator values the conditions look at, from bars up to and including the last one."""
    high, low, close, volume = (np.asarray(a, dtype=float) for a in (highs, lows, closes, volumes))
    if not len(high) == len(low) == len(close) == len(volume):
        raise ValueError("highs, lows, closes and volumes must have the same length")
    if len(close) < config.bars_needed:
        raise ValueError(f"conditional exit signals need {config.bars_needed} bars, got {len(close)}")
    macd = _ema(close, config.macd_fast) - _ema(close, config.macd_slow)
    signal = _ema(macd, config.macd_signal)
    before = volume[-config.volume_period - 1:-1].mean()
    gap = macd - signal
    noise = 1e-9 * abs(close[-1])  # a flat market must not "cross" on rounding noise
    return ExitSignals(
        rsi=relative_strength_index(close, config.rsi_period),
        volume_ratio=float(volume[-1] / before) if before > 0 else 1.0,
        macd_bearish_cross=bool(gap[-2] >= -noise and gap[-1] < -noise),
        macd_bullish_cross=bool(gap[-2] <= noise and gap[-1] > noise),
        swing_high=_swing(high, config.swing_strength, config.swing_lookback, True),
        swing_low=_swing(low, config.swing_strength, config.swing_lookback, False),
    )


def evaluate_conditional_exit(
    config: ConditionalExitConfig, side: PositionSide, entry: Decimal, price: Decimal, signals: ExitSignals
) -> ConditionalExitDecision:
    """Exit when at least ``min_conditions`` of the five conditions hold; records which held."""
    long = side is PositionSide.LONG
    profit_pct = (price - entry) * side.sign * HUNDRED / entry
    extreme = signals.swing_high if long else signals.swing_low
    checks = {
        "profit": profit_pct > config.profit_threshold_pct,
        "rsi": signals.rsi > config.rsi_overbought if long else signals.rsi < 100 - config.rsi_overbought,
        "volume_fading": signals.volume_ratio < config.volume_ratio_below,
        "macd_cross": signals.macd_bearish_cross if long else signals.macd_bullish_cross,
        "near_swing_extreme": extreme is not None and extreme > 0
        and abs(float(price) - extreme) / extreme * 100 <= config.near_swing_pct,
    }
    held = tuple(name for name in CONDITIONS if checks[name])
    return ConditionalExitDecision(config.enabled and len(held) >= config.min_conditions, held, config.min_conditions)


def decide_conditional_exit(
    config: ConditionalExitConfig,
    side: PositionSide,
    entry: Decimal,
    price: Decimal,
    highs: Sequence[float],
    lows: Sequence[float],
    closes: Sequence[float],
    volumes: Sequence[float],
) -> ConditionalExitDecision:
    """The same decision as ``evaluate_conditional_exit(exit_signals(...))``, cheapest conditions first.

    It stops as soon as the exit has become impossible, so on most bars the costly indicators
    are never computed. When it exits, every condition was checked and ``held`` lists all that
    held; when it does not, ``held`` lists those that held among the ones checked.
    """
    needed = config.min_conditions
    if not config.enabled:
        return ConditionalExitDecision(False, (), needed)
    close = np.asarray(closes, dtype=float)
    if len(close) < config.bars_needed or not len(highs) == len(lows) == len(close) == len(volumes):
        raise ValueError(f"conditional exit needs {config.bars_needed} bars of equal-length highs, lows, closes, volumes")
    long = side is PositionSide.LONG
    volume = np.asarray(volumes, dtype=float)
    extremes = np.asarray(highs if long else lows, dtype=float)

    def profit() -> bool:
        return (price - entry) * side.sign * HUNDRED / entry > config.profit_threshold_pct

    def volume_fading() -> bool:
        before = volume[-config.volume_period - 1:-1].mean()
        return bool(before > 0 and volume[-1] / before < config.volume_ratio_below)

    def near_swing_extreme() -> bool:
        extreme = _swing(extremes, config.swing_strength, config.swing_lookback, long)
        return extreme is not None and extreme > 0 and abs(float(price) - extreme) / extreme * 100 <= config.near_swing_pct

    def rsi() -> bool:
        value = relative_strength_index(close, config.rsi_period)
        return value > config.rsi_overbought if long else value < 100 - config.rsi_overbought

    def macd_cross() -> bool:
        macd = _ema(close, config.macd_fast) - _ema(close, config.macd_slow)
        gap = macd - _ema(macd, config.macd_signal)
        noise = 1e-9 * abs(close[-1])
        if long:
            return bool(gap[-2] >= -noise and gap[-1] < -noise)
        return bool(gap[-2] <= noise and gap[-1] > noise)

    checks = {"profit": profit, "volume_fading": volume_fading, "near_swing_extreme": near_swing_extreme,
              "rsi": rsi, "macd_cross": macd_cross}  # cheapest first
    held: set[str] = set()
    left = len(checks)
    for name, check in checks.items():
        left -= 1
        if check():
            held.add(name)
        if len(held) + left < needed:
            break
    ordered = tuple(name for name in CONDITIONS if name in held)
    return ConditionalExitDecision(len(ordered) >= needed, ordered, needed)
