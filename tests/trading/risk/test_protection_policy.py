"""ProtectionPolicy as a PositionPolicy: the issue's scenario as intents, sizing, breakers, conditional exit."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import numpy as np

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import Liquidity, Purpose, Side
from tradeloom.trading.policy import (
    CancelEntries,
    EntryRequest,
    ExitPosition,
    PositionPolicy,
    PositionState,
    ScaleOut,
    SetStop,
)
from tradeloom.trading.risk.breakers import BreakerConfig, CircuitBreakers
from tradeloom.trading.risk.conditional_exit import ConditionalExitConfig
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.dynamic_stop import DynamicStopConfig
from tradeloom.trading.risk.protection_policy import BarArrays, ProtectionPolicy
from tradeloom.trading.risk.sizing import TradeStats

INSTRUMENT = Instrument("XYZUSD", InstrumentKind.SPOT, "XYZ", "USD", D("0.01"), D(1))
NO_CONDITIONAL = RiskConfig(conditional_exit=ConditionalExitConfig(enabled=False))


def _request(side: Side = Side.BUY, equity: D = D(100_000)) -> EntryRequest:
    return EntryRequest("XYZUSD", side, 1.0, D(100), equity, equity, INSTRUMENT, "signal", 0)


def _state(side: Side, quantity: str, high: float = 100, low: float = 100, close: float = 100,
           pending: str = "0") -> PositionState:
    return PositionState("p1", "XYZUSD", side, D(quantity), D(100), 0, None, D(0), None, D(pending), D(0), D(0), 0,
                         high, low, close)


def _fill(side: Side, quantity: str, price: str = "100") -> Fill:
    return Fill("f", "c", "v", "XYZUSD", side, D(price), D(quantity), D(0), "USD", Liquidity.TAKER, 0)


def test_it_is_a_position_policy() -> None:
    assert isinstance(ProtectionPolicy(RiskConfig(), D(5)), PositionPolicy)


def test_the_issue_scenario_as_intents_for_a_long() -> None:
    policy = ProtectionPolicy(NO_CONDITIONAL, D(5), fee_rate=D("0.001"), fixed_quantity=D(4))
    plan = policy.plan_entry(_request())
    assert plan is not None and (plan.quantity, plan.planned_stop) == (D(4), D(95))
    assert policy.on_fill(_state(Side.BUY, "4"), _fill(Side.BUY, "4"), Purpose.ENTRY) == (SetStop(D(95), "stop", D(4)),)
    assert policy.on_market_data(_state(Side.BUY, "4", high=104.99, low=99)) == []
    assert policy.on_market_data(_state(Side.BUY, "4", high=105, low=101)) == [SetStop(D("100.21"), "breakeven", D(4))]
    at_2r = policy.on_market_data(_state(Side.BUY, "4", high=110, low=104))
    assert at_2r == [SetStop(D(105), "trailing", D(2)), ScaleOut(D(2), "scale_out_2R")]
    assert policy.on_fill(_state(Side.BUY, "2"), _fill(Side.SELL, "2", "110"), Purpose.SCALE_OUT) == ()
    at_3r = policy.on_market_data(_state(Side.BUY, "2", high=115, low=109))
    assert at_3r == [SetStop(D("112.5"), "trailing", D(1)), ScaleOut(D(1), "scale_out_3R")]
    policy.on_fill(_state(Side.BUY, "1"), _fill(Side.SELL, "1", "115"), Purpose.SCALE_OUT)
    assert policy.on_market_data(_state(Side.BUY, "1", high=120, low=114)) == [
        SetStop(D("117.5"), "trailing", None), ScaleOut(D(1), "scale_out_4R")]  # the stop stays until the exit fills
    policy.on_fill(_state(Side.BUY, "0"), _fill(Side.SELL, "1", "120"), Purpose.SCALE_OUT)
    assert policy.states == {}


def test_the_mirror_for_a_short_and_risk_based_sizing() -> None:
    policy = ProtectionPolicy(NO_CONDITIONAL, D(5), fee_rate=D("0.001"))
    plan = policy.plan_entry(_request(Side.SELL, equity=D(10_000)))
    # 2% of 10,000 = 200 over a 5 distance = 40 units, capped at 20% of equity = 20 units
    assert plan is not None and (plan.quantity, plan.planned_stop) == (D(20), D(105))
    assert plan.reason == "risk 1.00% bound by max_position; stop from base"
    policy.on_fill(_state(Side.SELL, "20"), _fill(Side.SELL, "20"), Purpose.ENTRY)
    assert policy.on_market_data(_state(Side.SELL, "20", high=99, low=95)) == [SetStop(D("99.80"), "breakeven", D(20))]
    assert policy.on_market_data(_state(Side.SELL, "20", high=96, low=90)) == [
        SetStop(D(95), "trailing", D(10)), ScaleOut(D(10), "scale_out_2R")]


def test_a_canceled_scale_out_gives_its_quantity_back_to_the_stop() -> None:
    policy = ProtectionPolicy(NO_CONDITIONAL, D(5), fixed_quantity=D(4))
    policy.plan_entry(_request())
    policy.on_fill(_state(Side.BUY, "4"), _fill(Side.BUY, "4"), Purpose.ENTRY)
    policy.on_market_data(_state(Side.BUY, "4", high=110, pending="0"))
    # the engine reports the scale-out is no longer working (canceled): the stop covers all 4 again
    intents = policy.on_market_data(_state(Side.BUY, "4", high=111, pending="0"))
    assert intents == [SetStop(D(106), "trailing", D(4))]


def test_dynamic_stop_from_atr_when_bars_are_known() -> None:
    class Bars:
        def recent(self, symbol: str, count: int) -> BarArrays:
            n = min(count, 30)
            return BarArrays([101.0] * n, [99.0] * n, [100.0] * n, [1.0] * n)  # ATR 2

    config = replace(NO_CONDITIONAL, dynamic_stop=DynamicStopConfig(atr_multiplier=D(3)))
    plan = ProtectionPolicy(config, D(5), bars=Bars(), fixed_quantity=D(1), clock=BacktestClock(0)).plan_entry(_request())
    assert plan is not None and plan.planned_stop == D(94) and plan.reason == "fixed size; stop from atr"


def test_a_halt_cancels_entries_once_and_flattens_by_setting() -> None:
    clock = BacktestClock(0)
    breakers = CircuitBreakers(BreakerConfig(flatten_on_halt=True), clock)
    policy = ProtectionPolicy(NO_CONDITIONAL, D(5), breakers=breakers, fixed_quantity=D(4))
    policy.plan_entry(_request())
    policy.on_fill(_state(Side.BUY, "4"), _fill(Side.BUY, "4"), Purpose.ENTRY)
    breakers.update(D(100_000))
    breakers.update(D(96_000))  # 4% daily loss
    first = policy.on_market_data(_state(Side.BUY, "4", high=101))
    reason = "daily loss reached the limit 3% of the day's starting equity 100000"
    assert first == [CancelEntries(f"halted: {reason}"), ExitPosition(f"breaker: {reason}")]
    assert policy.on_market_data(_state(Side.BUY, "4", high=101)) == [ExitPosition(f"breaker: {reason}")]
    assert policy.plan_entry(_request()) is None
    assert list(policy.skipped_entries) == [(0, "XYZUSD", "trading_state", f"trading state halted: {reason}")]


def test_the_conditional_exit_records_its_conditions() -> None:
    n = 60
    closes = list(np.linspace(100, 112, n))
    highs = [c + 0.2 for c in closes]
    highs[-4] = 113.0  # a swing high three bars back
    volumes = [1000.0] * (n - 1) + [300.0]

    class Bars:
        def recent(self, symbol: str, count: int) -> BarArrays:
            return BarArrays(highs[-count:], [c - 0.2 for c in closes][-count:], closes[-count:], volumes[-count:])

    config = RiskConfig(conditional_exit=ConditionalExitConfig(min_conditions=3))
    policy = ProtectionPolicy(replace(config, protection=replace(config.protection, scaled_exits_enabled=False)),
                              D(20), bars=Bars(), fixed_quantity=D(1), clock=BacktestClock(0))
    policy.plan_entry(_request())
    policy.on_fill(_state(Side.BUY, "1"), _fill(Side.BUY, "1"), Purpose.ENTRY)
    intents = policy.on_market_data(_state(Side.BUY, "1", high=112.2, low=111.8, close=112))
    assert intents[-1] == ExitPosition("conditional: profit, rsi, volume_fading, near_swing_extreme")


def test_the_kill_switch_is_obeyed_on_the_next_bar(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tradeloom.trading.ledger import SqlLedger
    from tradeloom.trading.risk.stored_state import StoredKillSwitch

    switch = StoredKillSwitch(SqlLedger(f"sqlite:///{tmp_path / 'ledger.sqlite'}"))
    breakers = CircuitBreakers(BreakerConfig(), BacktestClock(0), switch)
    policy = ProtectionPolicy(NO_CONDITIONAL, D(5), breakers=breakers, fixed_quantity=D(4))
    policy.plan_entry(_request())
    policy.on_fill(_state(Side.BUY, "4"), _fill(Side.BUY, "4"), Purpose.ENTRY)
    assert policy.on_market_data(_state(Side.BUY, "4", high=101)) == []
    switch.engage("stop everything", "ops", 5)
    assert policy.on_market_data(_state(Side.BUY, "4", high=101)) == [
        CancelEntries("halted: kill switch: stop everything (by ops)")]


def test_entries_into_a_surge_are_chase_validated() -> None:
    from tradeloom.trading.risk.execution.surge import SurgeConfig

    closes = [100.0] * 50 + [101.0, 102.0, 103.0, 104.0, 104.0]  # +4% in five bars
    volumes = [1000.0] * 50 + [4000.0] * 5  # on four times the volume

    class Bars:
        def recent(self, symbol: str, count: int) -> BarArrays:
            return BarArrays([c + 0.5 for c in closes][-count:], [c - 0.5 for c in closes][-count:], closes[-count:],
                             volumes[-count:])

    clock = BacktestClock(0)
    config = replace(NO_CONDITIONAL, surge=SurgeConfig(max_chase_pct=D(5), daily_limit=1),
                     dynamic_stop=DynamicStopConfig(enabled=False))
    policy = ProtectionPolicy(config, D(5), bars=Bars(), fixed_quantity=D(1), clock=clock)
    at = lambda price: replace(_request(), reference_price=D(price))  # noqa: E731
    assert policy.plan_entry(at("106")) is None  # 6% above the surge start
    assert policy.skipped_entries[-1] == (0, "XYZUSD", "chase_distance", "chase refused: price is 6.00% above the surge start 100.0, more than 5%")
    plan = policy.plan_entry(at("104"))
    assert plan is not None and plan.reason.endswith("chase 1 of 1 today, 4.00% from the surge start")
    again = policy.plan_entry(at("104"))  # the first never filled: no chase used yet
    assert again is not None and again.reason.endswith("chase 1 of 1 today, 4.00% from the surge start")
    policy.on_fill(_state(Side.BUY, "1"), _fill(Side.BUY, "1", "104"), Purpose.ENTRY)  # now it counts
    assert policy.plan_entry(at("104")) is None  # cooldown for the symbol, and the daily limit
    assert policy.skipped_entries[-1].kind == "chase_cooldown"
    short = policy.plan_entry(replace(_request(Side.SELL), reference_price=D(104)))
    assert short is not None and "chase" not in short.reason  # a rise is no surge to chase for a short


def test_a_working_full_exit_replaces_the_scale_outs_of_the_same_close() -> None:
    policy = ProtectionPolicy(NO_CONDITIONAL, D(5), fixed_quantity=D(4))
    policy.plan_entry(_request())
    policy.on_fill(_state(Side.BUY, "4"), _fill(Side.BUY, "4"), Purpose.ENTRY)
    # the strategy's exit signal went out first on this close: 4 of 4 are being exited
    intents = policy.on_market_data(_state(Side.BUY, "4", high=110, pending="4"))
    assert intents == [SetStop(D(105), "trailing", D(4))]  # the stop still tightens and covers everything
    assert policy.states["p1"].taken[0] and policy.states["p1"].pending_total == 0


def test_volatility_targeting_sizes_from_the_bars() -> None:
    from tradeloom.trading.risk.sizing import SizingConfig

    closes = [100.0, 102.0] * 20  # about 2% per bar

    class Bars:
        def recent(self, symbol: str, count: int) -> BarArrays:
            n = min(count, len(closes))
            return BarArrays([c + 1 for c in closes][-n:], [c - 1 for c in closes][-n:], closes[-n:], [1.0] * n)

    config = replace(NO_CONDITIONAL, dynamic_stop=DynamicStopConfig(enabled=False),
                     sizing=SizingConfig(volatility_target_pct=D("0.1"), max_position_pct=D(100)))
    plan = ProtectionPolicy(config, D(5), bars=Bars(), clock=BacktestClock(0)).plan_entry(_request())
    # 0.1% of 100,000 = 100 of per-bar volatility; at ~2% per bar that is ~5,000 notional = ~50 units
    from tradeloom.trading.risk.sizing import bar_volatility_pct

    volatility = bar_volatility_pct(closes[-101:])
    assert volatility is not None and D("1.9") < volatility < D("2.1")
    assert plan is not None and "bound by volatility" in plan.reason
    assert plan.quantity == (D(100_000) * D("0.1") / (D(100) * volatility)).to_integral_value(rounding="ROUND_FLOOR")


def test_closed_trades_feed_kelly_sizing() -> None:
    from tradeloom.trading.risk.sizing import SizingConfig

    config = replace(NO_CONDITIONAL, sizing=SizingConfig(kelly_min_trades=4, max_position_pct=D(100)))
    policy = ProtectionPolicy(config, D(5))
    for number, net in enumerate((-100, -100, -100, 50)):  # a poor record: 1 win in 4, payoff 0.5
        pid = f"t{number}"
        opened = replace(_state(Side.BUY, "1"), position_id=pid, fees=D(1))  # after paying the entry fee
        policy.plan_entry(_request())
        policy.on_fill(opened, replace(_fill(Side.BUY, "1"), fee=D(1)), Purpose.ENTRY)
        closed = replace(opened, quantity=D(0), realised_pnl=D(net + 2), fees=D(2))  # net of both fees
        policy.on_fill(closed, _fill(Side.SELL, "1"), Purpose.STOP)
    assert policy.tally.stats() == TradeStats(4, D("0.25"), D("0.5"))
    plan = policy.plan_entry(_request())
    assert plan is None and policy.skipped_entries[-1].reason.startswith("size rounds to nothing (risk 0.00% bound by kelly")
