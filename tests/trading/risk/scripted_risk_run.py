"""A scripted entry backtested through the engine with the full risk side (policy, gate, planner) on one instrument."""

from __future__ import annotations

from decimal import Decimal as D

from tests.trading.engine_support import Scripted
from tradeloom.trading.backtest import BacktestResult, run_backtest
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.risk.assembly import ReplayBarWindow, RiskSide, risk_side
from tradeloom.trading.risk.conditional_exit import ConditionalExitConfig
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.dynamic_stop import DynamicStopConfig
from tradeloom.trading.simulated import VenueConfig
from tradeloom.trading.strategies.base import Bars

INSTRUMENT = Instrument("XYZUSD", InstrumentKind.SPOT, "XYZ", "USD", D("0.01"), D(1))
# The rules under test alone: no conditional exit, no volatility-sized stop.
BASE = RiskConfig(conditional_exit=ConditionalExitConfig(enabled=False), dynamic_stop=DynamicStopConfig(enabled=False))


def run_scripted_long(bars: Bars, config: RiskConfig, signal_bar: int, quantity: D = D(3),
                      stop_pct: D = D(2)) -> tuple[BacktestResult, RiskSide]:
    """Go long ``quantity`` on the close of ``signal_bar`` (a 2% stop), through the engine and the simulated venue."""
    clock = BacktestClock(int(bars.ts[0]))
    side = risk_side(config, stop_pct, clock, bars=ReplayBarWindow(INSTRUMENT.symbol, bars, clock),
                     fixed_quantity=quantity)
    entry = [0] * len(bars)
    entry[signal_bar] = 1
    result = run_backtest(Scripted(entry), bars, INSTRUMENT, VenueConfig(), side.policy, D(100_000), clock,
                          gate=side.gate, planner=side.planner)
    return result, side
