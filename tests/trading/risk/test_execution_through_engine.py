"""Smart execution through the engine: every entry and market exit is planned, its reason recorded, its fill judged by the gate."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import numpy as np

from tests.trading.engine_support import Scripted
from tests.trading.risk.scripted_risk_run import BASE, INSTRUMENT, run_scripted_long
from tradeloom.trading.backtest import BacktestResult, run_backtest
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.engine import Engine
from tradeloom.trading.orders import OrderType, Purpose
from tradeloom.trading.risk.assembly import ReplayBarWindow, RiskSide, risk_side
from tradeloom.trading.risk.execution.method import ExecutionConfig
from tradeloom.trading.risk.execution.orderbook import BookLevel, OrderBook
from tradeloom.trading.risk.execution.slippage import MarketOnExcess, SlippageTolerance
from tradeloom.trading.risk.gate import GateConfig
from tradeloom.trading.simulated import SimulatedVenue, VenueConfig
from tradeloom.trading.strategies.base import Bars

MINUTE = 60 * 10**9
T0 = 19_000 * 86_400 * 10**9 + 10 * 3600 * 10**9
SIGNAL_BAR = 10


def _bars(closes: list[float], opens: list[float], lows: list[float]) -> Bars:
    n = len(closes)
    c, o, lo = np.array(closes), np.array(opens), np.array(lows)
    return Bars(np.arange(n, dtype=np.int64) * MINUTE + T0, o, np.maximum(o, c) + 0.1, lo, c, np.full(n, 1000.0))


def _gap_up_bars() -> Bars:
    """Flat at 100 until the signal bar, then a gap to 101 at the next open, and flat at 101 after."""
    closes = [100.0] * (SIGNAL_BAR + 1) + [101.0] * 20
    opens = [100.0] * (SIGNAL_BAR + 1) + [101.0] * 20
    lows = [99.9] * (SIGNAL_BAR + 1) + [100.9] * 20
    return _bars(closes, opens, lows)


def _run(bars: Bars, execution: ExecutionConfig, gate: GateConfig | None = None) -> tuple[BacktestResult, RiskSide]:
    return run_scripted_long(bars, replace(BASE, execution=execution, gate=gate or GateConfig()), SIGNAL_BAR)


def test_on_bars_an_entry_goes_at_market_with_the_reason_and_a_gap_beyond_tolerance_is_flagged() -> None:
    result, side = _run(_gap_up_bars(), ExecutionConfig())
    entry = next(o for o in result.orders if o.purpose is Purpose.ENTRY)
    assert entry.order_type is OrderType.MARKET
    assert entry.reason == "scripted long; market: no order book at the venue"
    fill = next(f for f in result.fills if f.client_order_id == entry.client_order_id)
    assert (fill.price, fill.quantity) == (D(101), D(3))  # the next bar's open, 1% above the signal close
    assert [(f.client_order_id, f.reference, f.price, f.slippage_pct) for f in side.gate.flagged_fills] == [
        (entry.client_order_id, D(100), D(101), D(1))]
    assert side.planner.methods_used() == {"market": 1}


def test_buy_use_post_only_rests_a_post_only_limit_at_the_signal_close_that_fills_as_maker_when_traded_through() -> None:
    closes = [100.0] * (SIGNAL_BAR + 1) + [101.0] * 5 + [100.0] * 10
    opens = [100.0] * (SIGNAL_BAR + 1) + [101.0] * 5 + [100.5] + [100.0] * 9
    lows = [99.9] * (SIGNAL_BAR + 1) + [100.9] * 5 + [99.8] + [99.9] * 9
    result, side = _run(_bars(closes, opens, lows), ExecutionConfig(buy_use_post_only=True))
    entry = next(o for o in result.orders if o.purpose is Purpose.ENTRY)
    assert (entry.order_type, entry.price, entry.post_only) == (OrderType.LIMIT, D(100), True)
    assert entry.reason == ("scripted long; post-only at the reference 100.00: BUY_USE_POST_ONLY is on; "
                            "no order book at the venue")
    fills = [f for f in result.fills if f.client_order_id == entry.client_order_id]
    assert [(f.price, f.quantity) for f in fills] == [(D(100), D(3))]
    assert result.ts[SIGNAL_BAR + 6] <= fills[0].ts < result.ts[SIGNAL_BAR + 7]  # the bar whose low trades through
    assert fills[0].liquidity.value == "maker"
    assert list(side.gate.flagged_fills) == []  # filled at its own limit: no slippage


def test_without_a_planner_the_core_sends_orders_as_the_policy_made_them() -> None:
    bars = _gap_up_bars()
    clock = BacktestClock(int(bars.ts[0]))
    side = risk_side(BASE, D(2), clock, bars=ReplayBarWindow("XYZUSD", bars, clock), fixed_quantity=D(3))
    entry = [0] * len(bars)
    entry[SIGNAL_BAR] = 1
    result = run_backtest(Scripted(entry), bars, INSTRUMENT, VenueConfig(), side.policy, D(100_000), clock,
                          gate=side.gate)
    assert next(o for o in result.orders if o.purpose is Purpose.ENTRY).reason == "scripted long"
    assert len(side.planner.plans) == 0  # nothing planned


def test_an_entry_the_gate_refuses_is_not_counted_by_its_method() -> None:
    result, side = _run(_gap_up_bars(), ExecutionConfig(buy_use_post_only=True), GateConfig(max_order_notional=D(250)))
    assert result.orders == [] and result.fills == []  # 3 at the post-only limit 100 is 300
    assert [reason for _, reason in result.rejections] == ["notional 300.00 is above the maximum order notional 250"]
    assert (side.planner.methods_used(), list(side.planner.plans)) == ({}, [])
    passing, sent = _run(_gap_up_bars(), ExecutionConfig(buy_use_post_only=True), GateConfig(max_order_notional=D(300)))
    assert [o.post_only for o in passing.orders] == [True]
    assert sent.planner.methods_used() == {"post_only": 1}


class BarsWithDepth(SimulatedVenue):
    """A simulated venue matching on bars that also shows a book per bar (``OrderBookSource``), as an exchange does.

    Fills still follow the bars; the book is what the engine's planner sees when it decides how to send.
    """

    def __init__(self, bars: Bars, book: OrderBook, config: VenueConfig) -> None:
        super().__init__(INSTRUMENT, bars, config, D(100_000))
        self.book = book

    def order_book(self, symbol: str) -> OrderBook | None:
        """The same book at every bar (after the first has closed)."""
        return self.book if self._t >= 0 else None


def _depth_run(book: OrderBook, execution: ExecutionConfig) -> tuple[Engine, RiskSide]:
    bars = _gap_up_bars()
    clock = BacktestClock(int(bars.ts[0]))
    side = risk_side(replace(BASE, execution=execution), D(2), clock, bars=ReplayBarWindow("XYZUSD", bars, clock),
                     fixed_quantity=D(3))
    entry = [0] * len(bars)
    entry[SIGNAL_BAR] = 1
    engine = Engine(Scripted(entry), INSTRUMENT, BarsWithDepth(bars, book, VenueConfig()), clock, side.policy,
                    cash=D(100_000), gate=side.gate, id_prefix="D", planner=side.planner)
    engine.run()
    return engine, side


# Around 100: one unit at 100.01, then nothing until 101.50; 3 units walk to an average of 101.0033 (1.003% above mid 100)
THIN = OrderBook((BookLevel(D("99.99"), D(1)), BookLevel(D("98.50"), D(5))),
                 (BookLevel(D("100.01"), D(1)), BookLevel(D("101.50"), D(5))))


def test_a_market_entry_that_would_slip_beyond_tolerance_on_the_venues_book_becomes_a_bounded_limit() -> None:
    engine, side = _depth_run(THIN, ExecutionConfig(min_liquidity_score=D(0), slippage=SlippageTolerance(D("0.5"))))
    entry = next(o for o in engine.orders.values() if o.purpose is Purpose.ENTRY)
    assert (entry.order_type, entry.price) == (OrderType.LIMIT, D("100.50"))
    assert entry.reason == ("scripted long; expected slippage 1.003% exceeds the tolerance 0.5%: "
                            "converted to a limit at 100.50")
    assert side.planner.methods_used() == {"limit": 1}
    assert engine.fills == []  # the bars gap to 101 and never come back to 100.50: the limit rests, never chased


def test_a_market_entry_refused_on_the_venues_book_is_recorded_with_the_reason_and_never_sent() -> None:
    refuse = ExecutionConfig(min_liquidity_score=D(0), slippage=SlippageTolerance(D("0.5"), MarketOnExcess.REFUSE))
    engine, side = _depth_run(THIN, refuse)
    assert engine.fills == [] and engine.open_orders == {}
    [(order_id, reason)] = engine.rejections
    assert reason == "execution: refused: expected slippage 1.003% exceeds the tolerance 0.5%"
    assert order_id.startswith("D-") and engine.orders == {}  # refused before it was ever sent
    assert side.planner.methods_used() == {"refused": 1}
