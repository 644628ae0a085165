"""Putting the risk side together for the engine: the policy, the gate and the breakers they share.

``risk_side`` builds them, and the execution planner the engine's executor asks how to send
each market order, from a ``RiskConfig`` (itself built from settings at the edge);
``ReplayBarWindow`` serves a backtest's bars to the policy without look-ahead (only bars
that have closed by the clock's time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from tradeloom.trading.clock import Clock
from tradeloom.trading.risk.breakers import CircuitBreakers
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.dynamic_stop import ExcursionHistory
from tradeloom.trading.risk.execution.method import ExecutionConfig
from tradeloom.trading.risk.execution.planner import ExecutionPlanner
from tradeloom.trading.risk.gate import RiskLimitsGate
from tradeloom.trading.risk.heat import correlation_clusters
from tradeloom.trading.risk.kill_switch import KillSwitch
from tradeloom.trading.risk.protection_policy import BarArrays, BarWindow, ProtectionPolicy
from tradeloom.trading.risk.sizing import TradeStats
from tradeloom.trading.strategies.base import Bars


class ReplayBarWindow:
    """The bars of one symbol that have closed by the clock's time (bar start + interval <= now)."""

    def __init__(self, symbol: str, bars: Bars, clock: Clock, bar_interval_ns: int | None = None) -> None:
        self.symbol, self.bars, self.clock = symbol, bars, clock
        if bar_interval_ns is None:
            bar_interval_ns = int(np.diff(bars.ts).min()) if len(bars) > 1 else 0
        self.interval = bar_interval_ns

    def recent(self, symbol: str, count: int) -> BarArrays | None:
        """Up to ``count`` closed bars of ``symbol``, oldest first; None for another symbol or none closed."""
        if symbol != self.symbol:
            return None
        end = int(np.searchsorted(self.bars.ts, self.clock.now_ns() - self.interval, side="right"))
        if end == 0:
            return None
        start = max(0, end - count)
        b = self.bars
        return BarArrays(b.high[start:end], b.low[start:end], b.close[start:end], b.volume[start:end])


@dataclass(frozen=True)
class RiskSide:
    """The policy, the gate and the execution planner to hand to the engine, and the breakers both obey."""

    policy: ProtectionPolicy
    gate: RiskLimitsGate
    breakers: CircuitBreakers
    planner: ExecutionPlanner = field(default_factory=lambda: ExecutionPlanner(ExecutionConfig()))


def risk_side(
    config: RiskConfig,
    base_stop_pct: Decimal,
    clock: Clock,
    fee_rate: Decimal = Decimal(0),
    kill_switch: KillSwitch | None = None,
    bars: BarWindow | None = None,
    excursions: ExcursionHistory | None = None,
    trade_stats: TradeStats | None = None,
    fixed_quantity: Decimal | None = None,
) -> RiskSide:
    """The full policy, the risk gate (sharing one set of circuit breakers on ``clock``) and the execution planner."""
    breakers = CircuitBreakers(config.breakers, clock, kill_switch)
    policy = ProtectionPolicy(config, base_stop_pct, fee_rate, breakers, bars, excursions, trade_stats, fixed_quantity)
    return RiskSide(policy, RiskLimitsGate(config.gate, breakers), breakers, ExecutionPlanner(config.execution))


def refresh_clusters(gate: RiskLimitsGate, closes: Mapping[str, Sequence[float]]) -> dict[str, frozenset[str]]:
    """Recompute the gate's correlation clusters from each symbol's recent closes (call once per bar or day)."""
    heat = gate.config.heat
    returns = {}
    for symbol, series in closes.items():
        values = np.asarray(series, dtype=float)[-(heat.correlation_window + 1):]
        if len(values) > 1 and (values > 0).all():
            returns[symbol] = np.diff(np.log(values))
    clusters = correlation_clusters(returns, heat.correlation_threshold, heat.correlation_window)
    gate.set_clusters(clusters)
    return clusters
