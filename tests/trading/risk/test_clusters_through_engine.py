"""Correlation clusters end to end: two engines share one gate and one clock; the gate finds the cluster itself."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D

import numpy as np
import pytest

from tests.trading.engine_support import Scripted
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.engine import Engine
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import OrderStatus, Purpose
from tradeloom.trading.risk.assembly import ReplayBarWindows, risk_side
from tradeloom.trading.risk.conditional_exit import ConditionalExitConfig
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.dynamic_stop import DynamicStopConfig
from tradeloom.trading.risk.gate import Refusal, RiskLimitsGate
from tradeloom.trading.risk.protection_policy import ProtectionPolicy
from tradeloom.trading.simulated import SimulatedVenue
from tradeloom.trading.strategies.base import Bars

AAA = Instrument("AAAUSD", InstrumentKind.SPOT, "AAA", "USD", D("0.01"), D(1))
BBB = Instrument("BBBUSD", InstrumentKind.SPOT, "BBB", "USD", D("0.01"), D(1))
MINUTE = 60 * 10**9
T0 = 19_000 * 86_400 * 10**9 + 10 * 3600 * 10**9  # 10:00 UTC
N = 70
A_SIGNAL = 62  # AAA buys at this bar's close (100), filled at the next open (100); 62 returns of history by then
B_SIGNAL = A_SIGNAL + 1  # BBB buys one bar later, after AAA's fill: the gate knows AAA's risk by then
CASH = D(100_000)
# Stop 10% below the entry (dynamic stop off): 10 of risk per unit at 100. Heat caps: 6% portfolio, 3% per cluster.
CONFIG = RiskConfig(conditional_exit=ConditionalExitConfig(enabled=False), dynamic_stop=DynamicStopConfig(enabled=False))
BASE_STOP_PCT = D(10)


def _closes(returns: np.ndarray, at: int) -> np.ndarray:
    """A price path with these log returns that closes at exactly 100.0 at bar ``at``."""
    path = np.concatenate([[0.0], np.cumsum(returns)])
    return 100.0 * np.exp(path - path[at])


def _bars(closes: np.ndarray) -> Bars:
    opens = np.concatenate([[closes[0]], closes[:-1]])  # each bar opens at the last close
    return Bars(np.arange(N, dtype=np.int64) * MINUTE + T0, opens, np.maximum(opens, closes) + 0.01,
                np.minimum(opens, closes) - 0.01, closes, np.full(N, 1000.0))


def _series(correlated: bool) -> tuple[Bars, Bars]:
    rng = np.random.default_rng(11)
    a = rng.normal(0, 0.01, N - 1)
    b = a + rng.normal(0, 0.002, N - 1) if correlated else rng.normal(0, 0.01, N - 1)
    return _bars(_closes(a, A_SIGNAL)), _bars(_closes(b, B_SIGNAL))


def _buys_at(signal: int) -> Scripted:
    """Buys at bar ``signal``; before it an exit signal on every (flat) bar, so the engine stops at every bar."""
    entry = [0] * N
    entry[signal] = 1
    return Scripted(entry, [i < signal for i in range(N)])


@dataclass
class TwoEngineRun:
    a: Engine
    b: Engine
    gate: RiskLimitsGate


def _run(correlated: bool, a_quantity: D = D(200), b_quantity: D = D(200)) -> TwoEngineRun:
    bars_a, bars_b = _series(correlated)
    clock = BacktestClock(T0)
    window = ReplayBarWindows({"AAAUSD": bars_a, "BBBUSD": bars_b}, clock)
    side = risk_side(CONFIG, BASE_STOP_PCT, clock, bars=window, fixed_quantity=a_quantity)
    policy_b = ProtectionPolicy(CONFIG, BASE_STOP_PCT, breakers=side.breakers, bars=window, fixed_quantity=b_quantity)
    a = Engine(_buys_at(A_SIGNAL), AAA, SimulatedVenue(AAA, bars_a, None, CASH), clock, side.policy, cash=CASH,
               gate=side.gate, id_prefix="A")
    b = Engine(_buys_at(B_SIGNAL), BBB, SimulatedVenue(BBB, bars_b, None, CASH), clock, policy_b, cash=CASH,
               gate=side.gate, id_prefix="B")
    for ts in bars_a.ts:  # both engines step bar by bar, in time order, on the one clock
        a.run(until_ns=int(ts) + MINUTE)
        b.run(until_ns=int(ts) + MINUTE)
    return TwoEngineRun(a, b, side.gate)


def _entries(engine: Engine) -> list[tuple[D, OrderStatus, str]]:
    return [(o.quantity, o.status, o.reason) for o in engine.orders.values() if o.purpose is Purpose.ENTRY]


def _entry_fills(engine: Engine) -> list[tuple[str, D, D]]:
    return [(f.symbol, f.price, f.quantity) for f in engine.fills if f.client_order_id.endswith("-1")]


def test_the_series_are_what_the_scenarios_need() -> None:
    for correlated, expected in ((True, 0.9688), (False, -0.1597)):  # what the gate sees at BBB's signal
        bars_a, bars_b = _series(correlated)
        returns = [np.diff(np.log(b.close[: B_SIGNAL + 1]))[-60:] for b in (bars_a, bars_b)]  # the last 60 closed
        assert np.corrcoef(returns)[0, 1] == pytest.approx(expected, abs=1e-4)
        assert (bars_a.close[A_SIGNAL], bars_a.open[A_SIGNAL + 1], bars_b.close[B_SIGNAL]) == (100.0, 100.0, 100.0)


def test_the_second_correlated_entry_is_shrunk_to_the_room_left_under_the_cluster_cap() -> None:
    run = _run(correlated=True)
    # AAA: 200 at 100, stop 90: 2,000 of risk (2%). The cluster AAA+BBB may hold 3% of 100,000 = 3,000,
    # so BBB's 200 x 10 = 2,000 is shrunk to the 1,000 left: 100 units.
    assert _entries(run.a) == [(D(200), OrderStatus.FILLED, "scripted long")]
    reason = "shrunk to fit the 3% heat cap of cluster AAAUSD,BBBUSD"
    assert _entries(run.b) == [(D(100), OrderStatus.FILLED, f"scripted long; shrunk: {reason}")]
    assert _entry_fills(run.a) + _entry_fills(run.b) == [("AAAUSD", D(100), D(200)), ("BBBUSD", D(100), D(100))]
    b_signal_close = T0 + (B_SIGNAL + 1) * MINUTE
    assert list(run.gate.refusals) == [Refusal(b_signal_close, "B-1", "BBBUSD", reason)]
    assert run.gate.clusters == {"AAAUSD": frozenset({"AAAUSD", "BBBUSD"}), "BBBUSD": frozenset({"AAAUSD", "BBBUSD"})}
    assert run.gate.cluster_watch is not None and run.gate.cluster_watch.refreshes == 1  # when BBB first showed up
    assert run.gate.open_risk(run.b.view(D(100))).cluster_risk(["AAAUSD", "BBBUSD"]) == D(3000)  # at the cap


def test_a_correlated_entry_is_refused_when_the_cluster_is_at_its_cap() -> None:
    run = _run(correlated=True, a_quantity=D(300))  # AAA alone holds 3,000: the whole cluster cap
    reason = "cluster AAAUSD,BBBUSD is at its heat cap 3%"
    assert _entries(run.a) == [(D(300), OrderStatus.FILLED, "scripted long")]
    assert run.b.rejections == [("B-1", reason)]  # a refused order is recorded as rejected and never sent
    assert _entries(run.b) == [] and run.b.fills == []
    assert [(r.client_order_id, r.reason) for r in run.gate.refusals] == [("B-1", reason)]


def test_the_same_run_with_uncorrelated_series_enters_in_full() -> None:
    run = _run(correlated=False)
    assert _entries(run.b) == [(D(200), OrderStatus.FILLED, "scripted long")]
    assert _entry_fills(run.a) + _entry_fills(run.b) == [("AAAUSD", D(100), D(200)), ("BBBUSD", D(100), D(200))]
    assert list(run.gate.refusals) == []
    assert run.gate.clusters == {"AAAUSD": frozenset({"AAAUSD"}), "BBBUSD": frozenset({"BBBUSD"})}
