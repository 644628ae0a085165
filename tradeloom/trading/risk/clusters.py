"""Correlation clusters kept current for the risk gate: recomputed from recent closes, never on every check.

The gate asks for the clusters only when it judges an entry. They are recomputed from the
closes a ``BarWindow`` serves (a replay serves only closed bars, so there is no look-ahead)
when the refresh period has turned since the last computation, or when the gate has come to
know a symbol it had not seen before. Periods are counted from the epoch, so the default of
one day turns at midnight UTC. A symbol with fewer closes than the correlation window needs
is in no cluster. The returns of all symbols are taken as the last bars each one has, so the
symbols are assumed to share one bar interval.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import numpy as np

from tradeloom.trading.clock import Clock
from tradeloom.trading.risk.heat import HeatConfig, correlation_clusters

if TYPE_CHECKING:  # protection_policy imports the gate's configuration: no import at run time
    from tradeloom.trading.risk.protection_policy import BarWindow

SECOND_NS = 10**9


class ClusterWatch:
    """The correlation clusters of the symbols a gate knows, recomputed at most once per period or on a new symbol."""

    def __init__(self, config: HeatConfig, bars: BarWindow, clock: Clock) -> None:
        self.config, self.bars, self.clock = config, bars, clock
        self.period_ns = config.correlation_refresh_s * SECOND_NS
        self.clusters: Mapping[str, frozenset[str]] = {}
        self.symbols: set[str] = set()
        self.refreshes = 0  # computations actually made (not the checks that reused them)
        self._period = -1
        self._known = -1

    def current(self, known: Collection[str], symbol: str) -> Mapping[str, frozenset[str]]:
        """The clusters to judge an entry in ``symbol`` with; ``known``: the symbols the gate has seen (it only grows)."""
        period = self.clock.now_ns() // self.period_ns
        symbols = self.symbols
        if period == self._period and symbol in symbols and len(known) == self._known:
            return self.clusters  # a grown-only collection of the same size holds the same symbols: nothing new
        count = len(symbols)
        self._known = len(known)
        symbols.add(symbol)
        symbols.update(known)
        if period != self._period or len(symbols) != count:
            self._period = period
            self.clusters = self._compute() if len(symbols) > 1 else {}
        return self.clusters

    def _compute(self) -> dict[str, frozenset[str]]:
        self.refreshes += 1
        window = self.config.correlation_window
        returns = {}
        for symbol in self.symbols:
            recent = self.bars.recent(symbol, window + 1)
            if recent is None:
                continue
            closes = np.asarray(recent.closes, dtype=float)[-(window + 1):]
            if len(closes) == window + 1 and (closes > 0).all():
                returns[symbol] = np.diff(np.log(closes))
        return correlation_clusters(returns, self.config.correlation_threshold, window)
