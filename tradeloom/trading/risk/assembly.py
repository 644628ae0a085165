"""Putting the risk side together for the engine: the policy, the gate and the breakers they share.

``risk_side`` builds them, and the execution planner the engine's executor asks how to send
each market order, from a ``RiskConfig`` (itself built from settings at the edge);
``ReplayBarWindow`` serves a backtest's bars to the policy and the gate without look-ahead
(only bars that have closed by the clock's time), ``ReplayBarWindows`` those of several symbols.
"""

from __future__ import annotations

from collections.abc import Mapping
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


class ReplayBarWindows:
    """The closed bars of several symbols (a backtest of many engines), each served as ``ReplayBarWindow`` does."""

    def __init__(self, bars: Mapping[str, Bars], clock: Clock, bar_interval_ns: int | None = None) -> None:
        self.windows = {symbol: ReplayBarWindow(symbol, b, clock, bar_interval_ns) for symbol, b in bars.items()}

    def recent(self, symbol: str, count: int) -> BarArrays | None:
        """Up to ``count`` closed bars of ``symbol``, oldest first; None for an unknown symbol or none closed."""
        window = self.windows.get(symbol)
        return window.recent(symbol, count) if window is not None else None


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
    """The full policy, the risk gate (sharing one set of circuit breakers on ``clock``) and the execution planner.

    ``bars`` serves both the policy (stops, exit signals) and the gate (correlation clusters).
    """
    breakers = CircuitBreakers(config.breakers, clock, kill_switch)
    policy = ProtectionPolicy(config, base_stop_pct, fee_rate, breakers, bars, excursions, trade_stats, fixed_quantity)
    return RiskSide(policy, RiskLimitsGate(config.gate, breakers, bars), breakers, ExecutionPlanner(config.execution))

