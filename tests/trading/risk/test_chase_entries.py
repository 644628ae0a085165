"""Chase-buy validation in the entry decision: exact scenarios through the policy and through the engine.

A chase is counted (cooldown, daily limit) when its entry fills, not when it is planned.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import numpy as np

from tradeloom.trading.backtest import BacktestResult
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.events import Fill
from tradeloom.trading.orders import Liquidity, Purpose, Side
from tradeloom.trading.policy import EntryPlan, EntryRequest, PositionState
from tradeloom.trading.risk.assembly import RiskSide
from tradeloom.trading.risk.execution.surge import SurgeConfig, detect_surge
from tradeloom.trading.risk.gate import GateConfig
from tradeloom.trading.risk.protection_policy import BarArrays, ProtectionPolicy, SkippedEntry
from tradeloom.trading.risk.sizing import SizingConfig
from tradeloom.trading.strategies.base import Bars
from tests.trading.risk.scripted_risk_run import BASE, INSTRUMENT, run_scripted_long

DAY = 86_400 * 10**9
SECOND = 10**9
T0 = 19_000 * DAY + 10 * 3600 * SECOND  # 10:00 UTC on some day
# 51 quiet bars at 100 on volume 1,000, then five bars rising to 110 on volume 5,000: +10% from the surge start 100
CLOSES = [100.0] * 51 + [102.0, 104.0, 106.0, 108.0, 110.0]
VOLUMES = [1000.0] * 51 + [5000.0] * 5


class SurgingBars:
    """Every symbol shows the same surge (a real BarWindow over fixed arrays)."""

    def __init__(self, closes: list[float], volumes: list[float]) -> None:
        self.closes, self.volumes = closes, volumes

    def recent(self, symbol: str, count: int) -> BarArrays:
        closes = self.closes[-count:]
        return BarArrays([c + 0.5 for c in closes], [c - 0.5 for c in closes], closes, self.volumes[-count:])


def _policy(surge: SurgeConfig, clock: BacktestClock, **kw: object) -> ProtectionPolicy:
    return ProtectionPolicy(replace(BASE, surge=surge), D(5), bars=SurgingBars(CLOSES, VOLUMES), clock=clock,
                            **kw)  # type: ignore[arg-type]


def _request(price: str, symbol: str = "XYZUSD", side: Side = Side.BUY, ts: int = T0) -> EntryRequest:
    return EntryRequest(symbol, side, 1.0, D(price), D(100_000), D(100_000), INSTRUMENT, "signal", ts)


def _fill_entry(policy: ProtectionPolicy, request: EntryRequest, plan: EntryPlan) -> None:
    """The venue fills the planned entry in full at the reference price, now."""
    state = PositionState(f"P-{request.symbol}", request.symbol, request.side, plan.quantity, request.reference_price,
                          request.ts, None, D(0), None, D(0), D(0), D(0), 0, float(request.reference_price),
                          float(request.reference_price), float(request.reference_price))
    fill = Fill("f", "c", "v", request.symbol, request.side, request.reference_price, plan.quantity, D(0), "USD",
                Liquidity.TAKER, request.ts)
    policy.on_fill(state, fill, Purpose.ENTRY)


def _enter(policy: ProtectionPolicy, request: EntryRequest) -> EntryPlan | None:
    """Plan the entry and, if planned, fill it."""
    plan = policy.plan_entry(request)
    if plan is not None:
        _fill_entry(policy, request, plan)
    return plan


def test_an_entry_too_far_above_the_surge_start_is_refused_with_the_distance() -> None:
    clock = BacktestClock(T0)
    policy = _policy(SurgeConfig(max_chase_pct=D(5)), clock, fixed_quantity=D(1))
    assert policy.plan_entry(_request("110")) is None
    assert list(policy.skipped_entries) == [SkippedEntry(
        T0, "XYZUSD", "chase_distance", "chase refused: price is 10.00% above the surge start 100.0, more than 5%")]
    assert policy.entries_skipped_by_reason() == {"chase_distance": 1}
    # a refused chase is not counted: an entry within the distance is still the first chase of the day
    plan = policy.plan_entry(_request("104.50"))
    assert plan is not None and plan.reason.endswith("; chase 1 of 3 today, 4.50% from the surge start")


def test_a_second_chase_within_the_cooldown_is_refused_and_allowed_after_it() -> None:
    clock = BacktestClock(T0)
    policy = _policy(SurgeConfig(max_chase_pct=D(12), cooldown_s=900, daily_limit=5), clock, fixed_quantity=D(1))
    assert _enter(policy, _request("110")) is not None  # 10% above the start, within 12%
    clock.observe(T0 + 60 * SECOND)
    assert policy.plan_entry(_request("110", ts=clock.now_ns())) is None
    assert policy.skipped_entries[-1] == SkippedEntry(T0 + 60 * SECOND, "XYZUSD", "chase_cooldown",
                                                      "chase refused: XYZUSD chase cooldown: 840s left")
    other = _enter(policy, _request("110", symbol="ABCUSD", ts=clock.now_ns()))  # the cooldown is per symbol
    assert other is not None and other.reason.endswith("chase 2 of 5 today, 10.00% from the surge start")
    clock.observe(T0 + 900 * SECOND)
    again = policy.plan_entry(_request("110", ts=clock.now_ns()))
    assert again is not None and again.reason.endswith("chase 3 of 5 today, 10.00% from the surge start")


def test_the_daily_chase_limit_holds_until_the_next_utc_day() -> None:
    clock = BacktestClock(T0)
    policy = _policy(SurgeConfig(max_chase_pct=D(12), cooldown_s=0, daily_limit=2), clock, fixed_quantity=D(1))
    assert _enter(policy, _request("110", symbol="AUSD")) is not None
    assert _enter(policy, _request("110", symbol="BUSD")) is not None
    assert policy.plan_entry(_request("110", symbol="CUSD")) is None
    assert policy.skipped_entries[-1].reason == "chase refused: daily chase limit 2 reached"
    midnight = (T0 // DAY + 1) * DAY
    clock.observe(midnight - 1)
    assert policy.plan_entry(_request("110", symbol="CUSD", ts=clock.now_ns())) is None  # still the same UTC day
    clock.observe(midnight)
    plan = policy.plan_entry(_request("110", symbol="CUSD", ts=midnight))
    assert plan is not None and plan.reason.endswith("chase 1 of 2 today, 10.00% from the surge start")
    assert policy.entries_skipped_by_reason() == {"chase_daily_limit": 2}


def test_a_planned_chase_counts_only_when_its_entry_fills() -> None:
    clock = BacktestClock(T0)
    policy = _policy(SurgeConfig(max_chase_pct=D(12), cooldown_s=900, daily_limit=1), clock, fixed_quantity=D(1))
    guard = policy.chase_guard
    assert guard is not None
    for _ in range(3):  # planned, then refused downstream or never filled: no cooldown, no chase used
        plan = policy.plan_entry(_request("110"))
        assert plan is not None and plan.reason.endswith("; chase 1 of 1 today, 10.00% from the surge start")
        assert guard.used_today() == 0
    clock.observe(T0 + 60 * SECOND)
    request = _request("110", ts=clock.now_ns())
    plan = policy.plan_entry(request)
    assert plan is not None
    _fill_entry(policy, request, plan)
    assert guard.used_today() == 1
    _fill_entry(policy, request, plan)  # a later fill of the same entry counts nothing more
    assert guard.used_today() == 1
    assert policy.plan_entry(_request("110", symbol="ABCUSD", ts=clock.now_ns())) is None
    assert policy.skipped_entries[-1].reason == "chase refused: daily chase limit 1 reached"
    clock.observe(T0 + 120 * SECOND)
    assert policy.plan_entry(_request("110", ts=clock.now_ns())) is None
    assert policy.skipped_entries[-1].reason == "chase refused: XYZUSD chase cooldown: 840s left"  # from the fill


def test_an_entry_that_sizes_to_nothing_does_not_use_a_chase() -> None:
    clock = BacktestClock(T0)
    config = replace(BASE, surge=SurgeConfig(max_chase_pct=D(12), daily_limit=1),
                     sizing=SizingConfig(max_position_pct=D("0.01")))  # 10 of 100,000 buys nothing at 110
    policy = ProtectionPolicy(config, D(5), bars=SurgingBars(CLOSES, VOLUMES), clock=clock)
    assert policy.plan_entry(_request("110")) is None
    assert policy.skipped_entries[-1].kind == "size"
    assert policy.chase_guard is not None
    surge = detect_surge(SurgeConfig(), CLOSES, VOLUMES)
    assert surge is not None and (surge.start_price, surge.change_pct, surge.volume_multiple) == (100.0, 10.0, 5.0)
    assert policy.chase_guard.check("XYZUSD", D(110), surge).reason == "chase 1 of 1 today, 10.00% from the surge start"


def test_a_short_into_a_drop_is_validated_mirrored() -> None:
    clock = BacktestClock(T0)
    drop = SurgingBars([200 - c for c in CLOSES], VOLUMES)  # 100 -> 90: -10%
    policy = ProtectionPolicy(replace(BASE, surge=SurgeConfig(max_chase_pct=D(5))), D(5), bars=drop, clock=clock,
                              fixed_quantity=D(1))
    assert policy.plan_entry(_request("90", side=Side.SELL)) is None
    assert policy.skipped_entries[-1].reason == "chase refused: price is 10.00% below the surge start 100.0, more than 5%"
    assert policy.plan_entry(_request("90")) is not None  # a drop is no surge to chase for a buy


# -- through the engine and the simulated venue ------------------------------------------------------------

MINUTE = 60 * SECOND


def _surge_bars() -> tuple[Bars, int]:
    closes = np.array([100.0] * 60 + [102.0, 104.0, 106.0, 108.0, 110.0] + [110.0] * 5)
    volumes = np.array([1000.0] * 60 + [5000.0] * 5 + [1000.0] * 5)
    opens = np.concatenate([[100.0], closes[:-1]])
    n = len(closes)
    bars = Bars(np.arange(n, dtype=np.int64) * MINUTE + T0, opens, np.maximum(opens, closes) + 0.1,
                np.minimum(opens, closes) - 0.1, closes, volumes)
    return bars, 64  # the strategy buys at the close of the last surging bar (110, 10% above the start)


def _run(max_chase_pct: D, gate: GateConfig | None = None) -> tuple[BacktestResult, RiskSide]:
    bars, at = _surge_bars()
    config = replace(BASE, surge=SurgeConfig(max_chase_pct=max_chase_pct), gate=gate or GateConfig())
    return run_scripted_long(bars, config, at)


def test_a_refused_chase_through_the_engine_leaves_no_order() -> None:
    result, side = _run(D(5))
    policy = side.policy
    assert result.orders == [] and result.fills == [] and result.rejections == []
    assert [(s.kind, s.reason) for s in policy.skipped_entries] == [
        ("chase_distance", "chase refused: price is 10.00% above the surge start 100.0, more than 5%")]
    assert policy.entries_skipped_by_reason() == {"chase_distance": 1}
    assert side.planner.methods_used() == {}


def test_an_allowed_chase_through_the_engine_is_entered_and_uses_one_chase_when_filled() -> None:
    result, side = _run(D(12))
    policy = side.policy
    entries = [o for o in result.orders if o.purpose.value == "entry"]
    assert len(entries) == 1 and entries[0].quantity == D(3)
    assert entries[0].reason.split("; ")[0] == "scripted long"  # the execution method's reason may follow
    assert result.fills[0].price == D(110)  # the next bar opens at the surge's close
    assert list(policy.skipped_entries) == []
    assert policy.chase_guard is not None and policy.chase_guard.used_today() == 1
    assert side.planner.methods_used() == {"market": 1}


def test_a_chase_the_gate_refuses_uses_no_chase_and_no_order_method() -> None:
    result, side = _run(D(12), GateConfig(max_order_notional=D(300)))  # 3 at 110 is 330
    policy = side.policy
    assert result.orders == [] and result.fills == []
    assert [reason for _, reason in result.rejections] == ["notional 330.00 is above the maximum order notional 300"]
    assert list(policy.skipped_entries) == []  # the policy planned it: a chase, 10% from the surge start
    assert policy.chase_guard is not None and policy.chase_guard.used_today() == 0
    assert side.planner.methods_used() == {}  # refused by the gate: not counted as sent at market
