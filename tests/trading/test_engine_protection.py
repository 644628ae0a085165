"""The engine with the full risk side (ProtectionPolicy and RiskLimitsGate) on random walks.

Checked from inside the run: whenever the policy is shown an open position, a protective
stop is working for no more than the position, and scale-outs never exceed it.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trading.engine_support import Scripted
from tests.trading.venue_support import MINUTE, T0
from tradeloom.trading.backtest import run_backtest
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.orders import Purpose
from tradeloom.trading.policy import EntryPlan, EntryRequest, Intent, PositionState
from tradeloom.trading.risk.assembly import ReplayBarWindow, risk_side
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.simulated import FeeSchedule, VenueConfig
from tradeloom.trading.strategies.base import Bars

CASH = D("100000")


class Watched:
    """Delegates to a policy and checks the engine's bracket invariants every time it is called."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.wants_market_data = inner.wants_market_data
        self.checked = 0

    def plan_entry(self, request: EntryRequest) -> EntryPlan | None:
        return self.inner.plan_entry(request)

    def on_fill(self, state: PositionState, fill: Fill, purpose: Purpose) -> Sequence[Intent]:
        return self.inner.on_fill(state, fill, purpose)

    def on_market_data(self, state: PositionState) -> Sequence[Intent]:
        assert state.quantity > 0
        assert state.stop_price is not None, f"no stop on open position {state.position_id}"
        assert 0 < state.stop_quantity <= state.quantity
        self.checked += 1
        return self.inner.on_market_data(state)


def walk(seed: int, n: int) -> Bars:
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.004, n))), 2)
    open_ = np.round(np.r_[close[0], close[:-1]], 2)
    high = np.round(np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.002, n))), 2)
    low = np.round(np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.002, n))), 2)
    return Bars(np.arange(n, dtype=np.int64) * MINUTE + T0, open_, high, low, close, rng.integers(1, 1000, n).astype(float))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, -1]))
def test_full_protection_through_the_engine_keeps_a_stop_and_exact_books(seed: int, side: int) -> None:
    n = 600
    bars = walk(seed, n)
    rng = np.random.default_rng(seed + 1)
    entry = np.where(rng.random(n) < 0.02, side, 0)
    exits = rng.random(n) < 0.005
    instrument = Instrument("WALK", "perpetual", "WALK", "USD", D("0.01"), D("0.001"), D("1"))
    clock = BacktestClock(int(bars.ts[0]))
    risk = risk_side(RiskConfig(), D(2), clock, D("0.001"), bars=ReplayBarWindow("WALK", bars, clock))
    policy = Watched(risk.policy)
    result = run_backtest(Scripted(entry.tolist(), exits.tolist()), bars, instrument,
                          VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001"))), policy, CASH, clock, gate=risk.gate)
    for t in range(n):
        cash, position = result.account_at(t)
        mark = result.mark(t)
        assert result.exact_equity(t) == CASH + position.realised_pnl + position.unrealised_pnl(mark) - position.fees
        assert position.quantity * side >= 0  # never on the wrong side
    assert policy.checked > 0 or not result.fills
