"""Property tests of the engine on random price paths: exact accounting, long-only never short, OCO emulation."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trading.engine_support import Scripted, TrailingStop
from tests.trading.venue_support import MINUTE, T0, btc
from tradeloom.trading.backtest import BacktestResult, run_backtest
from tradeloom.trading.policy import FixedStopTakeProfit
from tradeloom.trading.simulated import FeeSchedule, FixedBps, FixedLatency, IntrabarOrder, UniformLatency, VenueConfig
from tradeloom.trading.strategies.base import Bars

CASH = D("100000")


@st.composite
def price_paths(draw: st.DrawFn) -> Bars:
    n = draw(st.integers(5, 80))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.02, n))), 2)
    gaps = rng.normal(0, 0.01, n) * (rng.random(n) < 0.2)
    open_ = np.round(np.r_[close[0], close[:-1]] * (1 + gaps), 2)
    high = np.round(np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.01, n))), 2)
    low = np.round(np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.01, n))), 2)
    return Bars(np.arange(n, dtype=np.int64) * MINUTE + T0, open_, high, low, close, np.full(n, 50.0))


@st.composite
def setups(draw: st.DrawFn, sides: tuple[int, ...]) -> tuple[Bars, Scripted, VenueConfig, object]:
    bars = draw(price_paths())
    n = len(bars)
    entry = draw(st.lists(st.sampled_from((0, 0, 0) + sides), min_size=n, max_size=n))
    exits = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    fee = D(draw(st.sampled_from(["0", "0.0005", "0.001"])))
    latency = draw(st.sampled_from([None, (0, 90), (20, 150)]))  # seconds: an order may arrive a bar or two late
    config = VenueConfig(
        fees=FeeSchedule(fee / 2, fee),
        slippage=FixedBps(draw(st.sampled_from([0, 5]))),
        latency=FixedLatency() if latency is None else UniformLatency(latency[0] * 10**9, latency[1] * 10**9, n),
        intrabar=draw(st.sampled_from(list(IntrabarOrder))),
        volume_participation=draw(st.sampled_from([None, D("0.05")])),
        native_oco=draw(st.booleans()),
    )
    if draw(st.booleans()):
        policy: object = TrailingStop(D(draw(st.sampled_from(["0.5", "2", "5"]))), D(draw(st.sampled_from(["1", "2.5"]))))
    else:
        stop = draw(st.sampled_from([None, "1", "2", "5"]))
        target = draw(st.sampled_from([None, "1", "4", "10"]))
        policy = FixedStopTakeProfit(stop, target, quantity=draw(st.sampled_from(["1", "2.5", "0.333"])))
    return bars, Scripted(entry, exits), config, policy


def check_identity(result: BacktestResult) -> None:
    for t in range(len(result.bars)):
        cash, position = result.account_at(t)
        mark = result.mark(t)
        equity = result.exact_equity(t)
        assert equity == cash + position.quantity * mark
        assert equity == CASH + position.realised_pnl + position.unrealised_pnl(mark) - position.fees


@settings(max_examples=60, deadline=None)
@given(setups((1,)))
def test_long_only_accounting_is_exact_and_never_short(setup) -> None:  # type: ignore[no-untyped-def]
    bars, strategy, config, policy = setup
    result = run_backtest(strategy, bars, btc(), config, policy, CASH)
    check_identity(result)
    assert (result.position >= 0).all()
    for t in range(len(bars)):
        assert result.account_at(t)[1].quantity >= 0
    fees = sum((f.fee for f in result.fills), D(0))
    assert result.fees == fees
    closed = sum((tr.pnl for tr in result.trades), D(0))
    if result.final_position.quantity == 0:  # every trade closed: their net PnL is the whole change in cash
        assert closed == result.final_cash - CASH


@settings(max_examples=40, deadline=None)
@given(setups((1, -1)))
def test_long_short_accounting_is_exact(setup) -> None:  # type: ignore[no-untyped-def]
    bars, strategy, config, policy = setup
    result = run_backtest(strategy, bars, btc(), config, policy, CASH)
    check_identity(result)
    assert result.equity[-1] == float(result.final_equity) or abs(result.equity[-1] - float(result.final_equity)) < 1e-6


@settings(max_examples=40, deadline=None)
@given(setups((1, -1)))
def test_engine_emulated_oco_trades_like_native_oco(setup) -> None:  # type: ignore[no-untyped-def]
    bars, strategy, config, policy = setup
    native = run_backtest(strategy, bars, btc(), _with(config, True), policy, CASH)
    emulated = run_backtest(strategy, bars, btc(), _with(config, False), _fresh(policy), CASH)
    key = lambda r: [(f.side, f.price, f.quantity, f.ts) for f in r.fills]  # noqa: E731
    assert key(native) == key(emulated)


def _with(config: VenueConfig, oco: bool) -> VenueConfig:
    latency = config.latency
    if isinstance(latency, UniformLatency):  # the same draws for both runs
        latency = UniformLatency(latency.low_ns, latency.high_ns, latency.seed)
    return VenueConfig(config.fees, config.slippage, latency, config.intrabar, config.volume_participation, oco)


def _fresh(policy: object) -> object:
    if isinstance(policy, TrailingStop):
        return TrailingStop(policy.trail, policy.quantity)
    return policy
