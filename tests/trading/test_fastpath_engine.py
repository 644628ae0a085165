"""The fast path gives the same trades as the event-by-event engine (run_backtest) on random price paths."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tradeloom.trading.backtest import run_backtest
from tradeloom.trading.fastpath import FastPolicy, run_fast
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.policy import FixedStopTakeProfit
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.protection_policy import ProtectionPolicy
from tradeloom.trading.risk.protection_rules import ProtectionConfig, parse_scale_levels, parse_trailing_ladder
from tradeloom.trading.simulated import VenueConfig
from tradeloom.trading.simulated.fees import FeeSchedule
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy

TICK, LOT = 0.01, 0.001
MINUTE = 60_000_000_000


class GivenSignals(Strategy):
    """A strategy whose signals are handed to it: the engine and the fast path read the same ones."""

    name = "given_signals"

    class Params(BaseModel):
        pass

    def __init__(self, signals: Signals) -> None:
        super().__init__()
        self._given = signals

    @property
    def warmup(self) -> int:
        return 0

    def _signals(self, bars: Bars) -> Signals:
        return self._given

    def reason(self, side: PositionSide) -> str:
        return f"given {side.name}"


@st.composite
def cases(draw):
    n = draw(st.integers(5, 150))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vol = draw(st.sampled_from([0.004, 0.015, 0.04]))
    close = 100 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.concatenate(([100.0], close[:-1])) * np.exp(rng.normal(0, vol / 2, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, vol, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, vol, n)))
    open_, high, low, close = (np.round(a, 2) for a in (open_, high, low, close))  # nearest floats to the cents
    high = np.maximum(high, np.maximum(open_, close))
    low = np.minimum(low, np.minimum(open_, close))
    side = draw(st.sampled_from([1, -1]))
    entry = np.where(rng.random(n) < 0.12, side, 0).astype(np.int8)
    exit_ = (rng.random(n) < 0.1) & (entry == 0)
    bars = Bars(np.arange(n, dtype=np.int64) * MINUTE, open_, high, low, close, np.full(n, 1e9))
    return bars, Signals(entry, exit_, np.ones(n)), side


def engine_policy(protect: bool, stop: Decimal, target: Decimal | None, fee: Decimal, size: Decimal,
                  protection: ProtectionConfig):
    if not protect:
        return FixedStopTakeProfit(stop, target, size)
    config = RiskConfig(protection=protection)
    return ProtectionPolicy(config, stop, fee / 100, fixed_quantity=size)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), protect=st.booleans(), stop=st.sampled_from(["1", "2", "5"]),
       target=st.sampled_from([None, "3"]), fee=st.sampled_from(["0", "0.1"]), size=st.sampled_from(["1", "4"]),
       ladder=st.sampled_from(["", "1.5:1,3:0.5"]), levels=st.sampled_from(["", "2:50,3:25,4:25", "1:30,2.5:30"]))
def test_fast_path_trades_equal_the_engines(case, protect, stop, target, fee, size, ladder, levels):
    bars, signals, side = case
    kind = "spot" if side > 0 else "perpetual"
    instrument = Instrument("TEST", kind, "TST", "USD", Decimal(str(TICK)), Decimal(str(LOT)))
    protection = ProtectionConfig(trailing_ladder=parse_trailing_ladder(ladder), scale_levels=parse_scale_levels(levels),
                                  scaled_exits_enabled=bool(levels))
    policy = engine_policy(protect, Decimal(stop), None if protect or target is None else Decimal(target),
                           Decimal(fee), Decimal(size), protection)
    venue = VenueConfig(fees=FeeSchedule.percent(fee, fee))
    reference = run_backtest(GivenSignals(signals), bars, instrument, venue, policy, 100_000)

    common = dict(fee_pct=float(fee), size=float(size), direction=side, tick_size=TICK, lot_size=LOT)
    if protect:
        fast_policy = FastPolicy.protection(protection, stop_pct=float(stop), **common)
    else:
        fast_policy = FastPolicy(stop_pct=float(stop), take_profit_pct=None if target is None else float(target), **common)
    fast = run_fast(bars, signals, fast_policy)

    expected = [
        (int(np.searchsorted(bars.ts, t.entry_ts, "right")) - 1, int(np.searchsorted(bars.ts, t.exit_ts, "right")) - 1,
         float(t.entry_price), float(t.exit_price), float(t.quantity), t.exit_reason)
        for t in reference.trades
    ]
    got = [
        (int(r["entry_index"]), int(r["exit_index"]), float(r["entry_price"]), float(r["exit_price"]),
         float(r["quantity"]), fast.reason_label(int(r["reason"])))
        for r in fast.trades
    ]
    assert len(got) == len(expected), (got, expected)
    for mine, theirs in zip(got, expected):
        assert mine[:2] == theirs[:2] and mine[5] == theirs[5], (mine, theirs)
        assert np.allclose(mine[2:5], theirs[2:5], rtol=0, atol=1e-9), (mine, theirs)
    assert float(reference.final_equity) == fast.final_equity or abs(float(reference.final_equity) - fast.final_equity) < 1e-6
    np.testing.assert_allclose(fast.equity, reference.equity, rtol=0, atol=1e-6)
