"""Backtests through the one engine: a SimulatedVenue over bars and a BacktestClock.

``run_backtest`` is what the CLI and the flows call. Its result holds the trades, the
fills, the fees and the equity curve. The equity curve is float64 (for metrics and
charts), built after the run from the exact Decimal account at each fill; the exact
Decimal equity at any bar is ``result.exact_equity(t)``.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal
from typing import Iterator

import numpy as np

from tradeloom.trading.clock import BacktestClock, Clock
from tradeloom.trading.engine import Engine
from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.ledger_protocol import Ledger
from tradeloom.trading.metrics import TradeRecord
from tradeloom.trading.orders import Order
from tradeloom.trading.policy import PositionPolicy
from tradeloom.trading.positions import Position
from tradeloom.trading.risk.execution.planner import ExecutionPlanner
from tradeloom.trading.risk_gate import RiskGate
from tradeloom.trading.simulated import SimulatedVenue, VenueConfig
from tradeloom.trading.strategies.base import Bars, Strategy


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """What a backtest produced; money in Decimal, curves in float64 arrays aligned with the bars."""

    instrument: Instrument
    bars: Bars
    starting_cash: Decimal
    trade_rows: list[tuple] = field(repr=False)
    fills: list[Fill]
    orders: list[Order]
    rejections: list[tuple[str, str]]
    ts: np.ndarray
    equity: np.ndarray
    cash: np.ndarray
    position: np.ndarray
    final_cash: Decimal
    final_position: Position
    fill_bar: np.ndarray  # bar index of each fill
    account_states: list[tuple[Decimal, Position]] = field(repr=False)

    @cached_property
    def trades(self) -> list[TradeRecord]:
        """Closed trades (one per reducing fill: a round trip or a scale-out), oldest first."""
        return [TradeRecord(*row) for row in self.trade_rows]

    @property
    def fees(self) -> Decimal:
        """Every fee paid."""
        return self.final_position.fees

    @property
    def final_equity(self) -> Decimal:
        """Exact equity at the last bar's close."""
        return self.exact_equity(len(self.bars) - 1) if len(self.bars) else self.starting_cash

    @property
    def exits_by_reason(self) -> Counter[str]:
        """How many trades ended for each reason."""
        return Counter(t.exit_reason for t in self.trades)

    def mark(self, t: int) -> Decimal:
        """Bar ``t``'s close on the tick grid, the price positions are marked at."""
        return self.instrument.round_price(float(self.bars.close[t]))

    def account_at(self, t: int) -> tuple[Decimal, Position]:
        """(cash, position) at the end of bar ``t``, exact."""
        i = int(np.searchsorted(self.fill_bar, t, side="right"))
        if i == 0:
            return self.starting_cash, Position(self.instrument.symbol, self.instrument.quote)
        return self.account_states[i - 1]

    def exact_equity(self, t: int) -> Decimal:
        """cash + position marked at bar ``t``'s close, in Decimal."""
        cash, position = self.account_at(t)
        return cash + position.quantity * self.mark(t)


class _CollectorHold:
    """Holds off the collector's full (oldest-generation) passes while any backtest runs.

    A run adds hundreds of thousands of long-lived orders, events and fills; each full pass
    walks all of them and everything the process already holds, for nothing: they are
    kept, not garbage. Young collections still run. The thresholds are process-wide, so
    runs in several threads share one hold: the first sets it, the last puts the previous
    thresholds back (also on an error). Where runs overlap without end (a threaded worker
    of an optimiser), every ``catch_up_every``-th run that ends under the hold makes one
    full pass, so cycles are still collected.
    """

    def __init__(self, catch_up_every: int = 8) -> None:
        self.lock = threading.Lock()
        self.runs = 0
        self.ended_under_hold = 0
        self.catch_up_every = catch_up_every
        self.previous = gc.get_threshold()

    @contextmanager
    def held(self) -> Iterator[None]:
        """The hold for one run."""
        with self.lock:
            if self.runs == 0:
                self.previous = gc.get_threshold()
                gc.set_threshold(self.previous[0], self.previous[1], 1 << 30)
            self.runs += 1
        try:
            yield
        finally:
            catch_up = False
            with self.lock:
                self.runs -= 1
                if self.runs == 0:
                    gc.set_threshold(*self.previous)
                    self.ended_under_hold = 0
                else:
                    self.ended_under_hold += 1
                    catch_up = self.ended_under_hold % self.catch_up_every == 0
            if catch_up:
                gc.collect()


_collector_hold = _CollectorHold()


def run_backtest(strategy: Strategy, bars: Bars, instrument: Instrument, venue_config: VenueConfig | None,
                 policy: PositionPolicy, cash: Decimal | int | str, clock: Clock | None = None, *,
                 gate: RiskGate | None = None, ledger: Ledger | None = None,
                 planner: ExecutionPlanner | None = None) -> BacktestResult:
    """Run ``strategy`` over ``bars`` through the engine and a simulated venue."""
    if len(bars) == 0:
        raise ValueError("cannot backtest on zero bars")
    starting_cash = Decimal(cash)
    venue = SimulatedVenue(instrument, bars, venue_config, starting_cash)
    engine = Engine(strategy, instrument, venue, clock if clock is not None else BacktestClock(int(bars.ts[0])),
                    policy, cash=starting_cash, gate=gate, ledger=ledger, id_prefix="BT",
                    bar_interval_ns=venue_config.bar_interval_ns if venue_config is not None else None,
                    planner=planner)
    with _collector_hold.held():
        engine.run()
    fill_ts, states = engine.account.history()
    fill_bar = np.searchsorted(bars.ts, np.asarray(fill_ts, dtype=np.int64), side="right") - 1
    last = np.searchsorted(fill_bar, np.arange(len(bars)), side="right") - 1
    cash_f = np.array([float(c) for c, _ in states] + [float(starting_cash)])
    qty_f = np.array([float(p.quantity) for _, p in states] + [0.0])
    cash_curve, position_curve = cash_f[last], qty_f[last]  # index -1 picks the trailing start values
    equity = cash_curve + position_curve * bars.close
    return BacktestResult(instrument, bars, starting_cash, engine.closed_rows, engine.fills, list(engine.orders.values()),
                          engine.rejections, bars.ts, equity, cash_curve, position_curve, engine.account.cash,
                          engine.account.position, fill_bar, states)
