"""Order method selection, slippage tolerance, surge detection and chase validation."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.orders import Order, OrderType, Purpose, Side, TimeInForce
from tradeloom.trading.risk.execution.method import (
    ExecutionConfig,
    OrderMethod,
    Urgency,
    post_only_reason,
    select_order_method,
)
from tradeloom.trading.risk.execution.slippage import (
    MarketOnExcess,
    SlippageTolerance,
    fill_quality,
    guard_market_order,
)
from tradeloom.trading.risk.execution.surge import ChaseDecision, ChaseGuard, Surge, SurgeConfig, detect_surge
from tests.trading.risk.execution.test_orderbook import BOOK

TICK = D("0.05")


def test_liquid_small_orders_go_at_market() -> None:
    choice = select_order_method(ExecutionConfig(target_depth_notional=D(4000)), BOOK, Side.BUY, D(5), TICK)
    assert choice.method is OrderMethod.MARKET and choice.reason.startswith("market: liquid (score 1.00)")
    assert choice.order_fields() == (OrderType.MARKET, TimeInForce.GTC, False)


def test_post_only_by_setting_and_for_passive_strategies() -> None:
    config = ExecutionConfig(buy_use_post_only=True)
    choice = select_order_method(config, BOOK, Side.BUY, D(5), TICK)
    assert (choice.method, choice.price, choice.reason) == (
        OrderMethod.POST_ONLY, D("99.95"), "post-only: BUY_USE_POST_ONLY is on")
    assert choice.order_fields() == (OrderType.LIMIT, TimeInForce.GTC, True)
    assert select_order_method(config, BOOK, Side.SELL, D(5), TICK, Urgency.PASSIVE).method is OrderMethod.POST_ONLY
    assert select_order_method(config, BOOK, Side.BUY, D(1), TICK, Urgency.URGENT).method is not OrderMethod.POST_ONLY


def test_low_liquidity_avoids_market_orders() -> None:
    config = ExecutionConfig(target_depth_notional=D(100_000))  # score 0.045
    normal = select_order_method(config, BOOK, Side.BUY, D(5), TICK)
    assert (normal.method, normal.price) == (OrderMethod.LIMIT, D("99.95"))
    assert "low liquidity (score 0.04" in normal.reason
    urgent = select_order_method(config, BOOK, Side.SELL, D(5), TICK, Urgency.URGENT)
    assert (urgent.method, urgent.price) == (OrderMethod.IOC, D("99.5"))  # 0.5% under mid 100
    assert urgent.order_fields()[1] is TimeInForce.IOC


def test_all_or_none_is_fill_or_kill() -> None:
    choice = select_order_method(ExecutionConfig(), BOOK, Side.BUY, D(10), TICK, all_or_none=True)
    assert (choice.method, choice.price) == (OrderMethod.FOK, D("100.5"))
    assert "the book holds it" in choice.reason


def test_a_market_order_beyond_the_tolerance_is_converted_or_refused_by_setting() -> None:
    liquid = dict(target_depth_notional=D(1000), slippage=SlippageTolerance(D("0.2")))
    converted = select_order_method(ExecutionConfig(**liquid), BOOK, Side.BUY, D(10), TICK)  # 0.3% expected
    assert (converted.method, converted.price) == (OrderMethod.LIMIT, D("100.2"))
    assert converted.reason == "expected slippage 0.300% exceeds the tolerance 0.2%: converted to a limit at 100.20"
    strict = dict(liquid, slippage=SlippageTolerance(D("0.2"), MarketOnExcess.REFUSE))
    refused = select_order_method(ExecutionConfig(**strict), BOOK, Side.BUY, D(10), TICK)
    assert refused.refused and refused.reason == "refused: expected slippage 0.300% exceeds the tolerance 0.2%"
    with pytest.raises(ValueError, match="refused choice"):
        refused.order_fields()
    assert guard_market_order(SlippageTolerance(), Side.SELL, D(100), D("0.1"), TICK).action == "send"


def test_tolerance_bounds_limits_and_flags_fills() -> None:
    tolerance = SlippageTolerance(D("0.5"))
    assert tolerance.bound_limit(Side.BUY, D(100), D(101), TICK) == D("100.5")
    assert tolerance.bound_limit(Side.BUY, D(100), D("99.8"), TICK) == D("99.8")
    assert tolerance.bound_limit(Side.SELL, D(100), D(99), TICK) == D("99.5")
    worse = fill_quality(tolerance, Side.BUY, D(100), D("100.6"))
    assert (worse.slippage_pct, worse.flagged) == (D("0.6"), True)
    better = fill_quality(tolerance, Side.SELL, D(100), D("100.2"))
    assert (better.slippage_pct, better.flagged) == (D("-0.2"), False)
    with pytest.raises(ValueError, match="slippage tolerance"):
        SlippageTolerance(D(0))


def _surge_series(jump: float, volume: float) -> tuple[list[float], list[float]]:
    closes = [100.0] * 50 + [100.0 + jump * i / 5 for i in range(1, 6)]
    volumes = [1000.0] * 50 + [volume] * 5
    return closes, volumes


def test_surges_need_both_price_and_volume() -> None:
    config = SurgeConfig()
    surge = detect_surge(config, *_surge_series(4.0, 3500.0))
    assert surge == Surge(100.0, pytest.approx(4.0), 3.5)
    assert detect_surge(config, *_surge_series(2.0, 5000.0)) is None  # price too calm
    assert detect_surge(config, *_surge_series(5.0, 2000.0)) is None  # volume too thin
    with pytest.raises(ValueError, match="needs 51 bars"):
        detect_surge(config, [1.0] * 10, [1.0] * 10)


def _chase(guard: ChaseGuard, symbol: str, price: D, surge: Surge) -> ChaseDecision:
    """Judge a chase and, when allowed, count it as the policy does once its entry fills."""
    decision = guard.check(symbol, price, surge)
    if decision.allowed:
        guard.record(symbol)
    return decision


def test_chase_validation_distance_cooldown_and_daily_limit() -> None:
    clock = BacktestClock(0)
    guard = ChaseGuard(SurgeConfig(max_chase_pct=D("1.5"), cooldown_s=900, daily_limit=2), clock)
    surge = Surge(100.0, 4.0, 3.5)
    far = _chase(guard, "BTC", D("101.6"), surge)
    assert far == _chase(guard, "BTC", D("101.6"), surge) and not far.allowed
    assert far.reason == "price is 1.60% above the surge start 100.0, more than 1.5%"
    assert _chase(guard, "BTC", D("101.5"), surge).allowed
    clock.observe(600 * 10**9)
    assert _chase(guard, "BTC", D(101), surge).reason == "BTC chase cooldown: 300s left"
    assert _chase(guard, "ETH", D(101), surge).allowed
    assert _chase(guard, "SOL", D(101), surge).reason == "daily chase limit 2 reached"
    clock.observe(86_400 * 10**9)  # the next UTC day
    assert _chase(guard, "SOL", D(101), surge).allowed


def test_a_choice_applied_to_an_order_sets_its_method_and_records_an_entry_reason() -> None:
    choice = select_order_method(ExecutionConfig(sell_use_post_only=True), BOOK, Side.SELL, D(3), TICK)
    exit_ = Order("c1", "XYZ", Side.SELL, OrderType.MARKET, D(3), reduce_only=True, purpose=Purpose.SCALE_OUT,
                  reason="scale_out_2R")
    choice.apply(exit_)
    assert (exit_.order_type, exit_.price, exit_.post_only, exit_.time_in_force, exit_.reduce_only) == (
        OrderType.LIMIT, D("100.05"), True, TimeInForce.GTC, True)
    assert exit_.reason == "scale_out_2R"  # an exit keeps its kind, which reports count
    market = select_order_method(ExecutionConfig(target_depth_notional=D(4000)), BOOK, Side.BUY, D(5), TICK)
    entry = Order("c2", "XYZ", Side.BUY, OrderType.MARKET, D(5), purpose=Purpose.ENTRY, reason="signal")
    market.apply(entry)
    assert (entry.order_type, entry.price, entry.post_only) == (OrderType.MARKET, None, False)
    assert entry.reason == f"signal; {market.reason}"


def test_post_only_reasons() -> None:
    both = ExecutionConfig(buy_use_post_only=True, sell_use_post_only=True)
    assert post_only_reason(both, Side.BUY, Urgency.NORMAL) == "BUY_USE_POST_ONLY is on"
    assert post_only_reason(both, Side.SELL, Urgency.PASSIVE) == "SELL_USE_POST_ONLY is on"
    assert post_only_reason(both, Side.SELL, Urgency.URGENT) is None  # urgent orders never rest
    assert post_only_reason(ExecutionConfig(), Side.BUY, Urgency.PASSIVE) == "the strategy is passive"
    assert post_only_reason(ExecutionConfig(), Side.BUY, Urgency.NORMAL) is None


def test_a_drop_is_a_surge_for_a_sell() -> None:
    closes = [100.0] * 50 + [100.0 - 4.0 * i / 5 for i in range(1, 6)]
    volumes = [1000.0] * 50 + [3500.0] * 5
    assert detect_surge(SurgeConfig(), closes, volumes, direction=1) is None
    drop = detect_surge(SurgeConfig(), closes, volumes, direction=-1)
    assert drop is not None and drop.change_pct == pytest.approx(4.0)
    guard = ChaseGuard(SurgeConfig(max_chase_pct=D(5)), BacktestClock(0))
    assert guard.check("X", D(94), drop, direction=-1).reason == "price is 6.00% below the surge start 100.0, more than 5%"
    assert guard.check("X", D(96), drop, direction=-1).allowed
    with pytest.raises(ValueError, match="direction"):
        detect_surge(SurgeConfig(), closes, volumes, direction=0)
