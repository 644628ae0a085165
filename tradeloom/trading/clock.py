"""Time for the trading core: injected, never read from the system except by WallClock.

Timestamps are integer nanoseconds since the Unix epoch, UTC. The engine calls
``observe(ts)`` with the timestamp of the market event it is about to act on: the
backtest clock jumps to it, the wall clock ignores it (real time flows on its own).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Where the core gets the current time from."""

    def now_ns(self) -> int:
        """Current time, nanoseconds since the epoch (UTC)."""
        ...

    def observe(self, ts: int) -> None:
        """Tell the clock the engine is acting on a market event stamped ``ts``."""
        ...


def to_datetime(ts: int) -> datetime:
    """A nanosecond timestamp as an aware UTC datetime (microsecond resolution)."""
    return datetime.fromtimestamp(ts / 1e9, tz=timezone.utc)


class BacktestClock:
    """A clock the engine moves forward to each market event's time; it never goes back."""

    __slots__ = ("_now",)

    def __init__(self, start_ns: int = 0) -> None:
        self._now = int(start_ns)

    def now_ns(self) -> int:
        """The time of the last observed event."""
        return self._now

    def observe(self, ts: int) -> None:
        """Jump to ``ts``; ValueError if that would move time backwards."""
        if ts < self._now:
            raise ValueError(f"backtest clock cannot go back from {self._now} to {ts}")
        self._now = ts


class WallClock:
    """The real time. The only place in the trading core that reads the system clock."""

    __slots__ = ()

    def now_ns(self) -> int:
        """Nanoseconds since the epoch, from the system."""
        return time.time_ns()

    def observe(self, ts: int) -> None:
        """Real time does not follow the market data: nothing to do."""
        return None
