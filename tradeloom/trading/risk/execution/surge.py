"""Surge detection and chase-buy validation: distance above the surge start, per-symbol cooldown, daily limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradeloom.trading.clock import Clock

HUNDRED = Decimal(100)
DAY_NS = 86_400 * 10**9
SECOND_NS = 10**9


@dataclass(frozen=True)
class SurgeConfig:
    """A surge: price up ``min_change_pct`` over ``window`` bars on volume ``min_volume_multiple`` times normal."""

    window: int = 5
    history: int = 50
    min_change_pct: float = 3.0
    min_volume_multiple: float = 3.0
    max_chase_pct: Decimal = Decimal(5)
    cooldown_s: int = 900
    daily_limit: int = 3

    def __post_init__(self) -> None:
        if self.window < 1 or self.history <= self.window:
            raise ValueError("surge window must be >= 1 and the history longer than it")
        if self.min_change_pct <= 0 or self.min_volume_multiple <= 0 or self.max_chase_pct <= 0:
            raise ValueError("surge thresholds and the chase distance must be positive")
        if self.cooldown_s < 0 or self.daily_limit < 0:
            raise ValueError("chase cooldown and daily limit must be >= 0")


@dataclass(frozen=True)
class Surge:
    """A detected surge: where it started and how strong it is."""

    start_price: float
    change_pct: float
    volume_multiple: float


def detect_surge(config: SurgeConfig, closes: Sequence[float], volumes: Sequence[float], direction: int = 1) -> Surge | None:
    """A price and volume spike on the last ``window`` bars against the ``history`` before them, or None.

    ``direction`` +1 looks for a rise (chasing a buy), -1 for a drop (chasing a sell), mirrored.
    """
    if direction not in (1, -1):
        raise ValueError(f"surge direction must be +1 or -1, got {direction}")
    close, volume = np.asarray(closes, dtype=float), np.asarray(volumes, dtype=float)
    if len(close) != len(volume):
        raise ValueError("closes and volumes must have the same length")
    if len(close) < config.history + 1:
        raise ValueError(f"surge detection needs {config.history + 1} bars, got {len(close)}")
    start = close[-config.window - 1]
    change = (close[-1] - start) / start * 100 * direction
    normal = volume[-config.history - 1:-config.window - 1].mean()
    recent = volume[-config.window:].mean()
    multiple = recent / normal if normal > 0 else float("inf")
    if change >= config.min_change_pct and multiple >= config.min_volume_multiple:
        return Surge(float(start), float(change), float(multiple))
    return None


@dataclass(frozen=True)
class ChaseDecision:
    """Whether a chase may go, and why (not); ``rule`` names the rule that refused it ("" when allowed)."""

    allowed: bool
    reason: str
    rule: str = ""


DISTANCE, COOLDOWN, DAILY_LIMIT = "distance", "cooldown", "daily_limit"


class ChaseGuard:
    """Validates chase buys into surges; remembers chases per symbol and per UTC day."""

    def __init__(self, config: SurgeConfig, clock: Clock) -> None:
        self.config, self.clock = config, clock
        self._last: dict[str, int] = {}
        self._day = -1
        self._today = 0

    def _roll_day(self, now: int) -> None:
        if now // DAY_NS != self._day:
            self._day, self._today = now // DAY_NS, 0

    def check(self, symbol: str, price: Decimal, surge: Surge, direction: int = 1) -> ChaseDecision:
        """Judge a chase of ``surge`` at ``price`` (``direction`` -1: a sell into a drop) without counting it."""
        now = self.clock.now_ns()
        self._roll_day(now)
        start = Decimal(repr(surge.start_price))
        distance = (price - start) * direction * HUNDRED / start
        cap = self.config.max_chase_pct
        if distance > cap:
            where = "above" if direction > 0 else "below"
            return ChaseDecision(False, f"price is {distance:.2f}% {where} the surge start {start}, more than {cap}%",
                                 DISTANCE)
        last = self._last.get(symbol)
        if last is not None and now - last < self.config.cooldown_s * SECOND_NS:
            wait = (last + self.config.cooldown_s * SECOND_NS - now) // SECOND_NS
            return ChaseDecision(False, f"{symbol} chase cooldown: {wait}s left", COOLDOWN)
        if self._today >= self.config.daily_limit:
            return ChaseDecision(False, f"daily chase limit {self.config.daily_limit} reached", DAILY_LIMIT)
        return ChaseDecision(True, f"chase {self._today + 1} of {self.config.daily_limit} today, "
                                   f"{distance:.2f}% from the surge start")

    def used_today(self) -> int:
        """How many chases were counted on the clock's current UTC day."""
        self._roll_day(self.clock.now_ns())
        return self._today

    def record(self, symbol: str) -> None:
        """Count a chase of ``symbol`` now: it starts the symbol's cooldown and uses one of today's chases."""
        now = self.clock.now_ns()
        self._roll_day(now)
        self._last[symbol] = now
        self._today += 1
