"""Latency models: how long after it is sent an order reaches the matching engine.

An order takes part in matching from the first market point stamped at or after its
arrival (sent + latency). Cancels and modifications take effect at once (see
docs/simulation-assumptions.md).
"""

from __future__ import annotations

import random
from typing import Protocol, runtime_checkable


@runtime_checkable
class LatencyModel(Protocol):
    """Delay in nanoseconds between sending an order and its arrival at the venue."""

    def delay_ns(self) -> int:
        """The delay for the next order."""
        ...


class FixedLatency:
    """The same delay for every order."""

    def __init__(self, ns: int = 0) -> None:
        if ns < 0:
            raise ValueError(f"latency must be >= 0 ns, got {ns}")
        self.ns = int(ns)

    def delay_ns(self) -> int:
        """The fixed delay."""
        return self.ns


class UniformLatency:
    """A delay drawn uniformly from [low_ns, high_ns] by a seeded generator (reproducible runs)."""

    def __init__(self, low_ns: int, high_ns: int, seed: int = 0) -> None:
        if not 0 <= low_ns <= high_ns:
            raise ValueError(f"latency bounds must satisfy 0 <= low <= high, got {low_ns}, {high_ns}")
        self.low_ns, self.high_ns, self.seed = int(low_ns), int(high_ns), seed
        self._random = random.Random(seed)

    def delay_ns(self) -> int:
        """A fresh draw."""
        return self._random.randint(self.low_ns, self.high_ns)
