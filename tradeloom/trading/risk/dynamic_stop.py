"""Dynamic initial stop: from volatility (ATR), widened in high volatility, or from past trades' adverse excursion.

The distance is ``atr_multiplier x ATR``, widened by ``high_volatility_widening`` when the
current ATR is ``high_volatility_ratio`` times its long-run average or more. When the
learning engine knows enough similar past winning trades, the distance is instead a
quantile of their maximum adverse excursion (how far price went against them before they
won), with a buffer. Either way it is kept between ``floor_multiple`` and ``cap_multiple``
(1.5) times the strategy's base stop distance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

import numpy as np

from tradeloom.trading.risk.increments import ceil_to_step, floor_to_step
from tradeloom.trading.risk.protection import PositionSide


@dataclass(frozen=True)
class DynamicStopConfig:
    """Rules of the dynamic initial stop."""

    enabled: bool = True
    atr_period: int = 14
    atr_multiplier: Decimal = Decimal(2)
    long_run_period: int = 100
    high_volatility_ratio: Decimal = Decimal("1.5")
    high_volatility_widening: Decimal = Decimal("1.25")
    cap_multiple: Decimal = Decimal("1.5")
    floor_multiple: Decimal = Decimal("0.5")
    min_similar_trades: int = 20
    excursion_quantile: float = 0.9
    excursion_buffer: Decimal = Decimal("1.1")

    def __post_init__(self) -> None:
        if self.atr_period < 1 or self.long_run_period < self.atr_period:
            raise ValueError("ATR period must be >= 1 and the long-run period at least as long")
        if self.atr_multiplier <= 0 or self.high_volatility_widening < 1 or self.excursion_buffer < 1:
            raise ValueError("ATR multiplier must be positive; widening and excursion buffer at least 1")
        if not 0 < self.floor_multiple <= 1 <= self.cap_multiple:
            raise ValueError("the stop floor must be in (0, 1] and the cap at least 1 times the base distance")
        if not 0 < self.excursion_quantile <= 1 or self.min_similar_trades < 1:
            raise ValueError("excursion quantile must be in (0, 1] and at least one similar trade required")


@runtime_checkable
class ExcursionHistory(Protocol):
    """The learning engine's memory of similar past trades."""

    def adverse_excursions(self, symbol: str, side: PositionSide, context: Mapping[str, float]) -> Sequence[float]:
        """Maximum adverse excursions, as fractions of the entry price, of similar past winning trades."""
        ...


class NoExcursionHistory:
    """No past trades known: the stop comes from volatility alone."""

    def adverse_excursions(self, symbol: str, side: PositionSide, context: Mapping[str, float]) -> Sequence[float]:
        """Nothing."""
        return ()


@dataclass(frozen=True)
class StopDistance:
    """The initial stop distance in price and where it came from."""

    distance: Decimal
    source: str  # "base", "atr", "atr_high_volatility", "excursion"
    bounded: str = ""  # "cap" or "floor" when a bound applied


def average_true_range(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int) -> float:
    """The mean true range over the last ``period`` bars (needs ``period + 1`` bars)."""
    high, low, close = (np.asarray(a, dtype=float) for a in (highs, lows, closes))
    if not len(high) == len(low) == len(close):
        raise ValueError("highs, lows and closes must have the same length")
    if len(close) < period + 1:
        raise ValueError(f"ATR({period}) needs {period + 1} bars, got {len(close)}")
    previous = close[-period - 1:-1]
    true_range = np.maximum(high[-period:], previous) - np.minimum(low[-period:], previous)
    return float(true_range.mean())


def initial_stop_distance(
    config: DynamicStopConfig,
    base_distance: Decimal,
    highs: Sequence[float],
    lows: Sequence[float],
    closes: Sequence[float],
    excursions: Sequence[float] = (),
    entry: Decimal | None = None,
) -> StopDistance:
    """The stop distance for a new entry; ``base_distance`` is the strategy's own (e.g. 2% of price)."""
    if base_distance <= 0:
        raise ValueError(f"the strategy's base stop distance must be positive, got {base_distance}")
    if not config.enabled:
        return StopDistance(base_distance, "base")
    if len(excursions) >= config.min_similar_trades and entry is not None:
        quantile = float(np.quantile(np.asarray(excursions, dtype=float), config.excursion_quantile))
        distance, source = entry * Decimal(repr(quantile)) * config.excursion_buffer, "excursion"
    else:
        atr = average_true_range(highs, lows, closes, config.atr_period)
        distance, source = Decimal(repr(atr)) * config.atr_multiplier, "atr"
        if len(closes) >= config.long_run_period + 1:
            long_run = average_true_range(highs, lows, closes, config.long_run_period)
            if long_run > 0 and Decimal(repr(atr / long_run)) >= config.high_volatility_ratio:
                distance, source = distance * config.high_volatility_widening, "atr_high_volatility"
    cap, floor = base_distance * config.cap_multiple, base_distance * config.floor_multiple
    if distance > cap:
        return StopDistance(cap, source, "cap")
    if distance < floor:
        return StopDistance(floor, source, "floor")
    return StopDistance(distance, source)


def stop_price(side: PositionSide, entry: Decimal, distance: Decimal, tick_size: Decimal) -> Decimal:
    """The stop ``distance`` from ``entry`` on the losing side, on the tick grid, never closer than ``distance``."""
    if side is PositionSide.LONG:
        return floor_to_step(entry - distance, tick_size)
    return ceil_to_step(entry + distance, tick_size)
