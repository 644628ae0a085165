"""Protection invariants through the engine and the simulated venue, on random paths, with partial exit fills."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tradeloom.trading.backtest import run_backtest
from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import Purpose
from tradeloom.trading.policy import EntryPlan, EntryRequest, Intent, PositionState
from tradeloom.trading.risk.conditional_exit import ConditionalExitConfig
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.protection_policy import ProtectionPolicy
from tradeloom.trading.simulated import VenueConfig
from tradeloom.trading.simulated.fees import FeeSchedule
from tradeloom.trading.simulated.latency import FixedLatency, UniformLatency
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy

INSTRUMENT = Instrument("XYZUSD", InstrumentKind.PERPETUAL, "XYZ", "USD", D("0.01"), D(1))  # shorts allowed
CONFIG = RiskConfig(conditional_exit=ConditionalExitConfig(enabled=False))
MINUTE = 60 * 10**9


class EnterAt(Strategy):
    """Enters on given bars in a given direction; never exits by signal (protection does)."""

    name = "enter_at"

    class Params(BaseModel):
        side: int = 1
        bars: tuple[int, ...] = (0,)

    @property
    def warmup(self) -> int:
        return 0

    def _signals(self, bars: Bars) -> Signals:
        entry = np.zeros(len(bars), np.int8)
        for t in self.params.bars:
            if t < len(bars):
                entry[t] = self.params.side
        return Signals(entry, np.zeros(len(bars), np.bool_), np.ones(len(bars)))

    def reason(self, side: PositionSide) -> str:
        return f"test {side.name.lower()}"


class Watched:
    """A PositionPolicy that checks every invariant on each state the engine shows it, then delegates."""

    wants_market_data = True

    def __init__(self, inner: ProtectionPolicy) -> None:
        self.inner = inner
        self.last_stop: dict[str, D] = {}
        self.reached: set[str] = set()
        self.checks = 0

    def plan_entry(self, request: EntryRequest) -> EntryPlan | None:
        return self.inner.plan_entry(request)

    def _observe(self, state: PositionState) -> None:
        protection = self.inner.states.get(state.position_id)
        if protection is None or state.quantity == 0 or state.stop_price is None:
            return
        sign = protection.side.sign
        previous = self.last_stop.get(state.position_id)
        if previous is not None:
            assert (state.stop_price - previous) * sign >= 0, f"stop loosened {previous} -> {state.stop_price}"
        self.last_stop[state.position_id] = state.stop_price
        if state.position_id in self.reached:
            assert (state.stop_price - protection.entry) * sign >= 0, "stop on the losing side after 1R"
        # the resting stop and the working scale-outs never exceed the position (unless exits take it all)
        if state.pending_exit_quantity < state.quantity:
            assert state.stop_quantity + state.pending_exit_quantity <= state.quantity
        self.checks += 1

    def on_fill(self, state: PositionState, fill: Fill, purpose: Purpose) -> list[Intent]:
        self._observe(state)
        return list(self.inner.on_fill(state, fill, purpose))

    def on_market_data(self, state: PositionState) -> list[Intent]:
        self._observe(state)
        intents = list(self.inner.on_market_data(state))
        protection = self.inner.states.get(state.position_id)
        if protection is not None and protection.reached_breakeven:
            self.reached.add(state.position_id)
        return intents


def _bars(steps: list[int], wicks: list[int], volumes: list[int]) -> Bars:
    close = 100 + np.cumsum(np.array(steps, dtype=float)) / 100
    close = np.maximum(close, 1.0)
    open_ = np.concatenate([[100.0], close[:-1]])
    wick = np.array(wicks, dtype=float) / 100
    high = np.maximum(open_, close) + wick
    low = np.maximum(np.minimum(open_, close) - wick, 0.5)
    volume = np.array(volumes, dtype=float)
    volume[:2] = 1_000_000  # the entry fills whole; exits later may fill in parts
    ts = np.arange(len(close), dtype=np.int64) * MINUTE
    return Bars(ts, open_, high, low, close, volume)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.integers(15, 45).flatmap(lambda n: st.tuples(
        st.lists(st.integers(-150, 170), min_size=n, max_size=n),
        st.lists(st.integers(0, 120), min_size=n, max_size=n),
        st.lists(st.integers(1, 40), min_size=n, max_size=n),
    )),
    side=st.sampled_from([1, -1]),
    entries=st.lists(st.integers(0, 40), min_size=1, max_size=3),
    participation=st.sampled_from([None, D("0.25"), D("0.5")]),
    latency=st.sampled_from([None, (0, 90), (30, 150)]),  # seconds: orders may arrive a bar or two late
    seed=st.integers(0, 1000),
)
def test_invariants_hold_through_the_engine(data: tuple[list[int], list[int], list[int]], side: int,
                                            entries: list[int], participation: D | None,
                                            latency: tuple[int, int] | None, seed: int) -> None:
    steps, wicks, volumes = data
    steps = [s * side for s in steps]  # bias the path toward the position's favour, so levels are reached
    bars = _bars(steps, wicks, volumes)
    policy = Watched(ProtectionPolicy(CONFIG, D(2), fee_rate=D("0.001"), fixed_quantity=D(40)))
    delays = FixedLatency() if latency is None else UniformLatency(latency[0] * 10**9, latency[1] * 10**9, seed)
    venue = VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001")), volume_participation=participation, latency=delays)
    result = run_backtest(EnterAt({"side": side, "bars": tuple(sorted(set(entries)))}), bars, INSTRUMENT, venue,
                          policy, D(100_000))
    entered: dict[str, D] = defaultdict(D)
    scaled: dict[str, D] = defaultdict(D)
    levels: dict[str, list[str]] = defaultdict(list)
    by_id = {order.client_order_id: order for order in result.orders}
    for fill in result.fills:
        order = by_id[fill.client_order_id]
        if order.purpose is Purpose.ENTRY:
            entered[order.position_id] += fill.quantity
        elif order.purpose is Purpose.SCALE_OUT:
            scaled[order.position_id] += fill.quantity
    for order in result.orders:
        if order.purpose is Purpose.SCALE_OUT:
            levels[order.position_id].append(order.reason)
    for position_id, quantity in scaled.items():
        assert quantity <= entered[position_id]  # scale-outs never sum to more than the position
    for position_id, reasons in levels.items():
        assert len(reasons) == len(set(reasons)), f"a level was taken twice: {reasons}"
    assert result.final_position.quantity * side >= 0  # never flipped by exits


def _path(rows: list[tuple[float, float, float, float]]) -> Bars:
    o, h, l, c = (np.array(col, dtype=float) for col in zip(*rows))
    return Bars(np.arange(len(rows), dtype=np.int64) * MINUTE, o, h, l, c, np.full(len(rows), 1e6))


def _scenario(side: int) -> list[tuple[float, float, float, float]]:
    def p(x: float) -> float:
        return 100 + side * x

    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, p(5), p(0.5), p(4)), (p(4), p(10), p(3.5), p(9)),
            (p(10), p(15), p(9.5), p(14)), (p(15), p(20), p(14.5), p(19)), (p(20), p(20.5), p(19.5), p(20))]
    return [(o, max(h, l), min(h, l), c) for o, h, l, c in rows]


def test_the_issue_scenario_through_the_engine_long_and_short() -> None:
    for side in (1, -1):
        policy = Watched(ProtectionPolicy(CONFIG, D(5), fee_rate=D("0.001"), fixed_quantity=D(4)))
        venue = VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001")))
        result = run_backtest(EnterAt({"side": side, "bars": (0,)}), _path(_scenario(side)), INSTRUMENT, venue,
                              policy, D(100_000))
        exits = [(t.exit_reason, t.quantity, t.exit_price) for t in result.trades]
        p = lambda x: D(100) + side * D(x)  # noqa: E731
        assert exits == [("scale_out_2R", D(2), p(10)), ("scale_out_3R", D(1), p(15)), ("scale_out_4R", D(1), p(20))]
        stops = [o for o in result.orders if o.purpose is Purpose.STOP]
        assert len(stops) == 1 and stops[0].status.value == "CANCELED"
        assert policy.checks > 0 and result.final_position.quantity == 0


def test_a_breakeven_stop_fills_as_breakeven_through_the_engine() -> None:
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 105, 99.9, 104), (104, 104.5, 99, 99.5)]
    policy = Watched(ProtectionPolicy(CONFIG, D(5), fee_rate=D("0.001"), fixed_quantity=D(4)))
    result = run_backtest(EnterAt({"side": 1, "bars": (0,)}), _path(rows), INSTRUMENT,
                          VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001"))), policy, D(100_000))
    assert [(t.exit_reason, t.quantity, t.exit_price) for t in result.trades] == [("breakeven", D(4), D("100.21"))]
    assert result.trades[0].pnl > 0  # the fees are covered


def test_a_full_policy_backtest_shows_each_rule_in_its_exits() -> None:
    from tradeloom.trading.clock import BacktestClock
    from tradeloom.trading.risk.assembly import ReplayBarWindow, risk_side
    from tradeloom.trading.strategies.sma_cross import SmaCross

    rng = np.random.default_rng(11)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.002, n)) * close
    bars = Bars(np.arange(n, dtype=np.int64) * MINUTE, open_, np.maximum(open_, close) + spread,
                np.minimum(open_, close) - spread, close, rng.uniform(500, 1500, n))
    clock = BacktestClock(int(bars.ts[0]))
    config = RiskConfig(conditional_exit=ConditionalExitConfig(min_conditions=3))
    side = risk_side(config, D(2), clock, fee_rate=D("0.001"), bars=ReplayBarWindow("XYZUSD", bars, clock))
    result = run_backtest(SmaCross({"fast": 10, "slow": 50}), bars, INSTRUMENT,
                          VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001"))), side.policy, D(100_000), clock,
                          gate=side.gate)
    reasons = result.exits_by_reason
    assert sum(reasons.values()) == len(result.trades) > 20
    # every rule shows up on this seeded path; a reason is "kind" or "kind: detail"
    kinds = {reason.split(":")[0] for reason in reasons}
    assert {"stop", "breakeven", "trailing", "scale_out_2R", "conditional", "signal"} <= kinds, reasons
    assert all(t.quantity > 0 for t in result.trades)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.integers(15, 45).flatmap(lambda n: st.tuples(
        st.lists(st.integers(0, 80), min_size=n, max_size=n),
        st.lists(st.integers(0, 40), min_size=n, max_size=n),
        st.lists(st.integers(1, 12), min_size=n, max_size=n),
    )),
    side=st.sampled_from([1, -1]),
    participation=st.sampled_from([D("0.25"), D("0.5"), D(1)]),
)
def test_partial_fills_of_scale_outs_keep_every_invariant(data: tuple[list[int], list[int], list[int]], side: int,
                                                         participation: D) -> None:
    # Paths that move in the position's favour with wicks under 0.4 never reach a stop, so every exit is a
    # scale-out filled in parts by the volume cap (stops filled in parts are in the random paths above).
    steps, wicks, volumes = data
    bars = _bars([s * side for s in steps], wicks, volumes)
    policy = Watched(ProtectionPolicy(CONFIG, D(2), fee_rate=D("0.001"), fixed_quantity=D(40)))
    venue = VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001")), volume_participation=participation)
    result = run_backtest(EnterAt({"side": side, "bars": (0,)}), bars, INSTRUMENT, venue, policy, D(100_000))
    by_id = {order.client_order_id: order for order in result.orders}
    scaled: dict[str, D] = defaultdict(D)
    for fill in result.fills:
        order = by_id[fill.client_order_id]
        if order.purpose is Purpose.SCALE_OUT:
            scaled[order.reason] += fill.quantity
    shares = {"scale_out_2R": D(20), "scale_out_3R": D(10), "scale_out_4R": D(10)}
    for reason, quantity in scaled.items():
        assert quantity <= shares[reason]  # each level sells at most its share, however many parts it fills in
    assert sum(scaled.values()) <= 40
    assert {t.exit_reason for t in result.trades} <= set(shares)
    assert result.final_position.quantity * side >= 0


def test_losses_over_the_daily_limit_halt_entries_until_the_next_day() -> None:
    from tradeloom.trading.clock import BacktestClock
    from tradeloom.trading.risk.assembly import risk_side

    hour = 3600 * 10**9
    cycle = [(100, 100, 100, 100), (100, 100, 97, 97.5), (97.5, 100, 97.5, 100)]  # signal, stopped out, recover
    rows = cycle * 10  # 30 hourly bars: day 1 holds bars 0-23
    o, h, l, c = (np.array(col, dtype=float) for col in zip(*rows))
    start = 20_000 * 24 * hour
    bars = Bars(start + np.arange(len(rows), dtype=np.int64) * hour, o, h, l, c, np.full(len(rows), 1e6))
    clock = BacktestClock(start)
    side = risk_side(CONFIG, D(2), clock, fee_rate=D("0.001"), fixed_quantity=D(500))  # about 1.1% lost per stop
    result = run_backtest(EnterAt({"side": 1, "bars": tuple(range(0, 30, 3))}), bars, INSTRUMENT,
                          VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001"))), side.policy, D(100_000), clock,
                          gate=side.gate)
    entry_days = [(fill.ts - start) // (24 * hour) for fill in result.fills
                  if fill.client_order_id in {o.client_order_id for o in result.orders if o.purpose.value == "entry"}]
    assert entry_days == [0, 0, 0, 1, 1]  # three losses (3.3%) halt day 1; day 2 trades again until its own limit
    halts = [(change.current.value, (change.ts - start) // hour) for change in side.breakers.history]
    assert halts[:2] == [("halted", 7), ("active", 25)]  # the third stop fills in bar 7; bar 24 closes at 25h
    assert side.breakers.history[0].reason.startswith("daily loss reached the limit 3%")
    assert [t.exit_reason for t in result.trades] == ["stop"] * 5


def test_a_stop_filled_in_parts_closes_the_whole_position() -> None:
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100)] + [(97, 97.5, 96.5, 97)] * 5
    o, h, l, c = (np.array(col, dtype=float) for col in zip(*rows))
    volume = np.array([1e6, 1e6] + [40.0] * 5)  # a quarter of 40 per bar: the stop fills 10 at a time
    bars = Bars(np.arange(len(rows), dtype=np.int64) * MINUTE, o, h, l, c, volume)
    policy = Watched(ProtectionPolicy(CONFIG, D(2), fixed_quantity=D(40)))
    result = run_backtest(EnterAt({"side": 1, "bars": (0,)}), bars, INSTRUMENT,
                          VenueConfig(volume_participation=D("0.25")), policy, D(100_000))
    assert [(t.exit_reason, t.quantity) for t in result.trades] == [("stop", D(10))] * 4
    assert result.final_position.quantity == 0 and policy.inner.states == {}


def _held_flat(n: int = 6) -> Bars:
    rows = [(100, 100.5, 99.5, 100)] * n  # never near the 95 stop nor the 105 breakeven
    o, h, l, c = (np.array(col, dtype=float) for col in zip(*rows))
    return Bars(np.arange(n, dtype=np.int64) * MINUTE, o, h, l, c, np.full(n, 1e6))


def _heat_run(quantities: list[int], last: int) -> tuple[list[tuple[str, str]], list[D]]:
    from tradeloom.trading.clock import BacktestClock
    from tradeloom.trading.risk.assembly import risk_side

    clock = BacktestClock(0)
    shared = risk_side(CONFIG, D(5), clock)  # one gate for four single-instrument engines
    filled: list[D] = []
    rejections: list[tuple[str, str]] = []
    for index, quantity in enumerate([*quantities, last]):
        instrument = Instrument(f"S{index}USD", InstrumentKind.PERPETUAL, f"S{index}", "USD", D("0.01"), D(1))
        policy = ProtectionPolicy(CONFIG, D(5), breakers=shared.breakers, fixed_quantity=D(quantity))
        result = run_backtest(EnterAt({"side": 1, "bars": (0,)}), _held_flat(), instrument, VenueConfig(), policy,
                              D(100_000), BacktestClock(0), gate=shared.gate)
        filled.append(sum((f.quantity for f in result.fills), D(0)))
        rejections = result.rejections
    return rejections, filled


def test_heat_refuses_a_fourth_entry_through_the_engine() -> None:
    # three positions of 400 at 100 with stops at 95: 2,000 = 2% of 100,000 each
    rejections, filled = _heat_run([400, 400, 400], 400)
    assert filled == [D(400), D(400), D(400), D(0)]
    assert [reason for _, reason in rejections] == ["portfolio heat 6.00% is at its cap 6%"]


def test_heat_shrinks_a_fourth_entry_through_the_engine() -> None:
    # three at 1.5% (300 units each): a 2% entry (400) is shrunk to the 1.5% left (300)
    rejections, filled = _heat_run([300, 300, 300], 400)
    assert filled == [D(300), D(300), D(300), D(300)] and rejections == []
