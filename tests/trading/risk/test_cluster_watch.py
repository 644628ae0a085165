"""The gate keeps its correlation clusters current: once per UTC day or on a new symbol, never per check."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import Order, OrderType, Side
from tradeloom.trading.positions import Position
from tradeloom.trading.risk.assembly import ReplayBarWindows
from tradeloom.trading.risk.breakers import BreakerConfig, CircuitBreakers
from tradeloom.trading.risk.gate import GateConfig, RiskLimitsGate
from tradeloom.trading.risk.heat import HeatConfig
from tradeloom.trading.risk_gate import AccountView, OrderRequest, Verdict
from tradeloom.trading.strategies.base import Bars

HOUR = 3600 * 10**9
DAY = 24 * HOUR
DAY0 = 19_000 * DAY  # midnight UTC
ANY = Instrument("ANY", InstrumentKind.SPOT, "ANY", "USD", D("0.01"), D(1))
EQUITY = D(100_000)
HEAT = HeatConfig(correlation_window=20)


def _hourly(closes: np.ndarray, start: int) -> Bars:
    n = len(closes)
    return Bars(np.arange(n, dtype=np.int64) * HOUR + start, closes, closes + 0.01, closes - 0.01, closes,
                np.full(n, 1000.0))


def _market() -> dict[str, Bars]:
    """Hourly bars from day 0: A and B move together, D on its own; C (like A) starts only on day 1."""
    rng = np.random.default_rng(3)
    a = rng.normal(0, 0.01, 96)
    paths = {"A": a, "B": a + rng.normal(0, 0.002, 96), "D": rng.normal(0, 0.01, 96)}
    bars = {s: _hourly(100 * np.exp(np.cumsum(r)), DAY0) for s, r in paths.items()}
    bars["C"] = _hourly(100 * np.exp(np.cumsum(a[24:] + rng.normal(0, 0.002, 72))), DAY0 + DAY)
    return bars


def _gate(clock: BacktestClock, bars: dict[str, Bars], heat: HeatConfig = HEAT) -> RiskLimitsGate:
    breakers = CircuitBreakers(BreakerConfig(), clock)
    return RiskLimitsGate(GateConfig(max_orders_per_window=0, heat=heat), breakers, ReplayBarWindows(bars, clock))


def _entry(gate: RiskLimitsGate, symbol: str, clock: BacktestClock, quantity: int = 1,
           positions: dict[str, Position] | None = None, stops: dict[str, D] | None = None) -> Verdict:
    order = Order(f"{symbol}-{clock.now_ns()}", symbol, Side.BUY, OrderType.MARKET, D(quantity))
    account = AccountView(clock.now_ns(), EQUITY, EQUITY, EQUITY, positions or {}, {}, (), stops or {})
    return gate.check(OrderRequest(order, ANY, D(100), D(90)), account).verdict


def test_clusters_are_recomputed_once_per_utc_day_or_on_a_new_symbol_and_not_per_check() -> None:
    clock = BacktestClock(DAY0 + DAY + 6 * HOUR)  # day 1, 06:00: a day of history for A, B, D; six bars of C
    gate = _gate(clock, _market())
    watch = gate.cluster_watch
    assert watch is not None
    assert _entry(gate, "A", clock) is Verdict.ACCEPT
    assert (watch.refreshes, gate.clusters) == (0, {})  # one symbol: nothing to correlate
    _entry(gate, "B", clock)
    assert watch.refreshes == 1
    assert gate.clusters == {"A": frozenset({"A", "B"}), "B": frozenset({"A", "B"})}
    _entry(gate, "C", clock)  # a new symbol: recomputed at once; C (6 closes, 20 returns needed) is in no cluster
    assert watch.refreshes == 2
    assert "C" not in gate.clusters and gate.clusters["A"] == frozenset({"A", "B"})
    for hour in range(6, 24):  # checks all day long reuse the clusters, though C's history has grown
        clock.observe(DAY0 + DAY + hour * HOUR)
        for symbol in ("A", "B", "C"):
            _entry(gate, symbol, clock)
    clock.observe(DAY0 + 2 * DAY - 1)
    _entry(gate, "C", clock)
    assert watch.refreshes == 2 and "C" not in gate.clusters  # still day 1
    clock.observe(DAY0 + 2 * DAY)  # midnight UTC: the first check of day 2 recomputes, with C's new closes
    _entry(gate, "A", clock)
    assert watch.refreshes == 3
    assert gate.clusters["A"] == gate.clusters["C"] == frozenset({"A", "B", "C"})
    for _ in range(10):
        _entry(gate, "C", clock)
    assert watch.refreshes == 3


def test_a_symbol_learned_from_another_engines_view_is_correlated_too() -> None:
    clock = BacktestClock(DAY0 + DAY + 6 * HOUR)
    gate = _gate(clock, _market())
    # B's engine places the stop of its 200 bought at 100: the gate learns 2,000 of risk in B from that view
    b_view = AccountView(clock.now_ns(), EQUITY, EQUITY, EQUITY, {"B": Position("B", "USD", D(200), D(20_000))}, {},
                         (), {"B": D(90)})
    stop = Order("b-stop", "B", Side.SELL, OrderType.STOP_MARKET, D(200), stop_price=D(90), reduce_only=True)
    assert gate.check(OrderRequest(stop, ANY, D(100)), b_view).verdict is Verdict.ACCEPT
    # A's engine sees only A; 200 x 10 of risk does not fit the 1,000 left under the cluster's 3,000
    assert _entry(gate, "A", clock, 200, {"A": Position("A", "USD")}) is Verdict.SHRINK
    assert gate.clusters["A"] == frozenset({"A", "B"})
    assert gate.refusals[-1].reason == "shrunk to fit the 3% heat cap of cluster A,B"


def test_the_refresh_period_is_configurable() -> None:
    clock = BacktestClock(DAY0 + DAY + 6 * HOUR)
    gate = _gate(clock, _market(), HeatConfig(correlation_window=20, correlation_refresh_s=3600))
    _entry(gate, "A", clock)
    _entry(gate, "B", clock)
    clock.observe(DAY0 + DAY + 6 * HOUR + HOUR - 1)
    _entry(gate, "B", clock)
    clock.observe(DAY0 + DAY + 7 * HOUR)
    _entry(gate, "B", clock)
    assert gate.cluster_watch is not None and gate.cluster_watch.refreshes == 2
    with pytest.raises(ValueError, match="correlation refresh period must be positive seconds, got 0"):
        HeatConfig(correlation_refresh_s=0)


def test_without_a_bar_window_no_symbol_is_in_a_cluster() -> None:
    clock = BacktestClock(DAY0)
    gate = RiskLimitsGate(GateConfig(), CircuitBreakers(BreakerConfig(), clock))
    assert gate.cluster_watch is None and gate.clusters == {}
    held = {"B": Position("B", "USD", D(200), D(20_000))}
    assert _entry(gate, "A", clock, 200, held, {"B": D(90)}) is Verdict.ACCEPT  # 4,000 of 6,000: no cluster cap


def test_replay_windows_serve_each_symbol_without_look_ahead() -> None:
    clock = BacktestClock(DAY0 + DAY)
    windows = ReplayBarWindows(_market(), clock)
    assert windows.recent("C", 5) is None  # C's first bar has not closed at its own start
    clock.observe(DAY0 + DAY + 2 * HOUR + 1)  # C's bars 0 and 1 have closed, bar 2 is forming
    c = windows.recent("C", 5)
    a = windows.recent("A", 2)
    assert c is not None and len(c.closes) == 2
    assert a is not None and list(a.closes) == list(_market()["A"].close[24:26])  # bar 26 is forming
    assert windows.recent("Z", 5) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.integers(1, 800), st.integers(1, 20),
                          st.booleans()), min_size=1, max_size=12))
def test_cluster_heat_never_exceeds_its_cap_after_an_accepted_entry(events: list[tuple[str, int, int, bool]]) -> None:
    clock = BacktestClock(DAY0 + 2 * DAY + 6 * HOUR)  # A, B and C form a cluster; D is on its own
    gate = _gate(clock, _market())
    positions: dict[str, Position] = {}
    stops: dict[str, D] = {}
    cluster_cap, portfolio_cap = EQUITY * 3 / 100, EQUITY * 6 / 100
    for n, (symbol, quantity, distance, close_first) in enumerate(events):
        clock.observe(clock.now_ns() + HOUR // 4)
        if close_first and symbol in positions:  # flat again: its risk is gone
            positions[symbol] = Position(symbol, "USD")
            stops.pop(symbol)
        if positions.get(symbol, Position(symbol, "USD")).quantity != 0:
            continue  # one position per symbol in this account
        order = Order(f"o{n}", symbol, Side.BUY, OrderType.MARKET, D(quantity))
        account = AccountView(clock.now_ns(), EQUITY, EQUITY, EQUITY, dict(positions), {}, (), dict(stops))
        decision = gate.check(OrderRequest(order, ANY, D(100), D(100 - distance)), account)
        if decision.verdict is Verdict.REFUSE:
            continue
        filled = decision.quantity if decision.verdict is Verdict.SHRINK else D(quantity)
        positions[symbol] = Position(symbol, "USD", filled, filled * 100)  # filled at the reference price
        stops[symbol] = D(100 - distance)
        risk = {s: p.quantity * (100 - stops[s]) for s, p in positions.items() if p.quantity}
        cluster = gate.clusters.get(symbol, frozenset())
        if len(cluster) > 1:  # the entry joined a cluster of the symbols the gate knows: it fits that cluster's cap
            assert sum(risk.get(s, D(0)) for s in cluster) <= cluster_cap
            assert cluster <= {"A", "B", "C"}
        assert sum(risk.values()) <= portfolio_cap
    assert gate.cluster_watch is not None and gate.cluster_watch.refreshes <= 3  # once per new symbol after the first
    known = {s for s, *_ in events}  # every symbol's first event is checked
    together = known & {"A", "B", "C"}
    if len(together) > 1:
        assert all(gate.clusters[s] == together for s in together)
    if len(known) > 1 and "D" in known:
        assert gate.clusters["D"] == frozenset({"D"})
