"""The risk gate: each check refuses with its reason; reducing orders always pass; heat shrinks entries."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import Liquidity, Order, OrderType, Purpose, Side
from tradeloom.trading.positions import Position
from tradeloom.trading.risk.breakers import BreakerConfig, CircuitBreakers, TradingState
from tradeloom.trading.risk.gate import GateConfig, RiskLimitsGate
from tradeloom.trading.risk.kill_switch import KillSwitchStatus
from tradeloom.trading.risk_gate import AccountView, OrderRequest, RiskGate, Verdict

BTC = Instrument("BTCUSD", InstrumentKind.SPOT, "BTC", "USD", D("0.5"), D("0.001"), D(10))
EQUITY = D(100_000)


class SwitchBoard:
    """A kill switch a test can flip (a real implementation of the protocol)."""

    def __init__(self) -> None:
        self.engaged = False

    def status(self) -> KillSwitchStatus:
        return KillSwitchStatus(self.engaged, "test")


def _order(quantity: str, side: Side = Side.BUY, order_type: OrderType = OrderType.MARKET, price: str | None = None,
           reduce_only: bool = False, purpose: Purpose = Purpose.ENTRY, coid: str = "o1", symbol: str = "BTCUSD") -> Order:
    stop = D(price) if order_type is OrderType.STOP_MARKET else None
    limit = D(price) if order_type is OrderType.LIMIT and price else None
    return Order(coid, symbol, side, order_type, D(quantity), price=limit, stop_price=stop,
                 reduce_only=reduce_only, purpose=purpose)


def _account(ts: int = 0, positions: dict[str, Position] | None = None, stops: dict[str, D] | None = None,
             equity: D = EQUITY) -> AccountView:
    return AccountView(ts, EQUITY, equity, equity, positions or {}, {}, (), stops or {})


def _gate(config: GateConfig | None = None, switch: SwitchBoard | None = None) -> RiskLimitsGate:
    breakers = CircuitBreakers(BreakerConfig(), BacktestClock(0), switch)
    return RiskLimitsGate(config or GateConfig(), breakers)


def _request(order: Order, planned_stop: str | None = "9500", reference: str = "10000") -> OrderRequest:
    return OrderRequest(order, BTC, D(reference), None if planned_stop is None else D(planned_stop))


def test_it_is_a_risk_gate() -> None:
    assert isinstance(_gate(), RiskGate)


def test_an_entry_within_the_limits_is_accepted() -> None:
    decision = _gate().check(_request(_order("0.4")), _account())  # 0.4 x 500 = 200 of risk
    assert decision.verdict is Verdict.ACCEPT


def test_precision_and_notional_are_refused_with_the_reason() -> None:
    gate = _gate(GateConfig(max_order_notional=D(50_000)))
    cases = {
        "quantity 0.0005 is not a multiple of the lot size 0.001": _request(_order("0.0005")),
        "price 10000.3 is not a positive multiple of the tick size 0.5":
            _request(_order("0.1", order_type=OrderType.LIMIT, price="10000.3")),
        "notional 9.0000 is below the minimum notional 10": _request(_order("0.001", order_type=OrderType.LIMIT, price="9000.0")),
        "notional 60000 is above the maximum order notional 50000": _request(_order("6")),
    }
    for reason, request in cases.items():
        decision = gate.check(request, _account())
        assert (decision.verdict, decision.reason) == (Verdict.REFUSE, reason)
    assert [r.reason for r in gate.refusals] == list(cases)


def test_reduce_only_must_reduce_and_reducing_orders_always_pass() -> None:
    gate = _gate(GateConfig(max_orders_per_window=1), SwitchBoard())
    long = {"BTCUSD": Position("BTCUSD", "USD", D("0.5"), D(5000))}
    wrong = gate.check(_request(_order("0.1", reduce_only=True, purpose=Purpose.STOP)), _account(positions=long))
    assert (wrong.verdict, wrong.reason) == (Verdict.REFUSE, "reduce-only order would open or increase a position")
    too_big = _order("0.6", Side.SELL, OrderType.STOP_MARKET, "9500", reduce_only=True, purpose=Purpose.STOP)
    assert gate.check(_request(too_big), _account(positions=long)).verdict is Verdict.REFUSE
    gate.breakers.kill_switch.engaged = True  # type: ignore[attr-defined]
    stop = _order("0.5", Side.SELL, OrderType.STOP_MARKET, "9500", reduce_only=True, purpose=Purpose.STOP)
    for _ in range(3):  # halted and over the rate limit, yet the protective stop passes
        assert gate.check(_request(stop), _account(positions=long)).verdict is Verdict.ACCEPT
    assert gate.breakers.state is TradingState.HALTED


def test_trading_state_and_order_rate_refuse_entries() -> None:
    switch = SwitchBoard()
    gate = _gate(GateConfig(max_orders_per_window=2, order_rate_window_s=60), switch)
    second = 10**9
    assert gate.check(_request(_order("0.1")), _account(0)).verdict is Verdict.ACCEPT
    assert gate.check(_request(_order("0.1")), _account(10 * second)).verdict is Verdict.ACCEPT
    over = gate.check(_request(_order("0.1")), _account(20 * second))
    assert (over.verdict, over.reason) == (Verdict.REFUSE, "order rate above 2 per 60s")
    assert gate.check(_request(_order("0.1")), _account(61 * second)).verdict is Verdict.ACCEPT  # the first left the window
    switch.engaged = True
    halted = gate.check(_request(_order("0.1")), _account(200 * second))
    assert (halted.verdict, halted.reason) == (Verdict.REFUSE, "trading state halted: kill switch: test")


def test_heat_refuses_at_the_cap_and_shrinks_to_the_room_left() -> None:
    gate = _gate()
    # three open longs, each 4 BTC at 10000 with stops at 9500: 2,000 = 2% each -> 6%
    positions = {s: Position(s, "USD", D(4), D(40_000)) for s in ("BTCUSD", "ETHUSD", "SOLUSD")}
    stops = {s: D(9500) for s in positions}
    entry = _order("4", symbol="XRPUSD")
    refused = gate.check(_request(entry), _account(positions=positions, stops=stops))
    assert (refused.verdict, refused.reason) == (Verdict.REFUSE, "portfolio heat 6.00% is at its cap 6%")
    # three at 1.5% each (stops at 9625): a 2% entry is shrunk to the remaining 1.5% (4 -> 3)
    stops = {s: D(9625) for s in positions}
    shrunk = gate.check(_request(entry), _account(positions=positions, stops=stops))
    assert (shrunk.verdict, shrunk.quantity) == (Verdict.SHRINK, D(3))
    no_stop = gate.check(_request(_order("0.1"), planned_stop=None), _account())
    assert no_stop.reason == "an entry without a planned stop has no bounded risk"


def test_stop_outs_at_a_loss_start_the_cooldown() -> None:
    clock = BacktestClock(0)
    breakers = CircuitBreakers(BreakerConfig(stop_out_limit=2), clock)
    gate = RiskLimitsGate(GateConfig(), breakers)
    long = {"BTCUSD": Position("BTCUSD", "USD", D(1), D(10_000))}
    gate.check(_request(_order("0.1")), _account(positions=long))
    flat = {"BTCUSD": Position("BTCUSD", "USD")}
    for index, price in enumerate(("10100", "9500", "9400")):
        fill = Fill(f"f{index}", "s", "v", "BTCUSD", Side.SELL, D(price), D(1), D(0), "USD", Liquidity.TAKER, 0)
        gate.on_fill(fill, Purpose.STOP, _account(positions=flat))
        gate.check(_request(_order("0.1")), _account(positions=long))
    # the stop at 10100 was in profit; the two at a loss make the cooldown
    assert breakers.state is TradingState.REDUCING
    assert gate.refusals[-1].reason.startswith("trading state reducing: cooldown after 2 stop-outs")


def test_market_fills_beyond_the_slippage_tolerance_are_flagged() -> None:
    from tradeloom.trading.risk.execution.slippage import SlippageTolerance

    gate = _gate(GateConfig(slippage=SlippageTolerance(D("0.5"))))
    gate.check(_request(_order("0.1", coid="m1")), _account())
    gate.check(_request(_order("0.1", coid="m2")), _account())
    for coid, price in (("m1", "10040"), ("m2", "10060"), ("unknown", "20000")):
        fill = Fill(f"f-{coid}", coid, "v", "BTCUSD", Side.BUY, D(price), D("0.1"), D(0), "USD", Liquidity.TAKER, 7)
        gate.on_fill(fill, Purpose.ENTRY, _account())
    assert [(f.client_order_id, f.reference, f.price, f.slippage_pct) for f in gate.flagged_fills] == [
        ("m2", D(10000), D(10060), D("0.6"))]
    assert gate.flagged_count == 1


def test_every_flagged_fill_is_counted_though_only_the_newest_are_kept() -> None:
    from tradeloom.trading.risk.execution.slippage import SlippageTolerance

    gate = _gate(GateConfig(slippage=SlippageTolerance(D("0.5"))))
    for i in range(10_005):
        coid = f"m{i}"
        gate.check(_request(_order("0.1", coid=coid)), _account())
        gate.on_fill(Fill(f"f-{coid}", coid, "v", "BTCUSD", Side.BUY, D(10060), D("0.1"), D(0), "USD", Liquidity.TAKER, 7),
                     Purpose.ENTRY, _account())
    assert gate.flagged_count == 10_005 and len(gate.flagged_fills) == 10_000
    assert gate.flagged_fills[0].client_order_id == "m5"


def test_a_gate_shared_by_single_instrument_engines_sums_their_heat() -> None:
    gate = _gate()
    for symbol in ("BTCUSD", "ETHUSD", "SOLUSD"):  # each engine's view holds only its own symbol
        own = {symbol: Position(symbol, "USD", D(4), D(40_000))}
        gate.check(_request(_order("0.001", symbol=symbol)), _account(positions=own, stops={symbol: D(9500)}))
    refused = gate.check(_request(_order("4", symbol="XRPUSD")), _account(positions={"XRPUSD": Position("XRPUSD", "USD")}))
    assert refused.reason == "portfolio heat 6.00% is at its cap 6%"
    flat = {"BTCUSD": Position("BTCUSD", "USD")}  # one engine's position closed
    gate.check(_request(_order("0.001", symbol="BTCUSD")), _account(positions=flat))
    assert gate.open_risk(_account()).total == D(4000)


@settings(max_examples=150, deadline=None)
@given(
    held=st.lists(st.tuples(st.integers(0, 50), st.integers(50, 100)), min_size=0, max_size=5),
    quantity=st.integers(1, 60),
    stop_ticks=st.integers(1, 1000),
    reducing=st.booleans(),
)
def test_an_admitted_entry_never_lifts_heat_over_the_cap(held: list[tuple[int, int]], quantity: int, stop_ticks: int,
                                                          reducing: bool) -> None:
    symbols = [f"S{i}USD" for i in range(len(held))]
    positions = {s: Position(s, "USD", D(q), D(q) * 10_000) for s, (q, _) in zip(symbols, held)}
    stops = {s: D(10_000) - D(pct) * 10 for s, (_, pct) in zip(symbols, held)}  # 0.5% to 1% below entry
    gate = _gate(GateConfig(max_orders_per_window=0))
    account = _account(positions=positions, stops=stops)
    if reducing and symbols and held[0][0] > 0:
        exit_order = _order(str(held[0][0]), Side.SELL, reduce_only=True, purpose=Purpose.EXIT, symbol=symbols[0])
        assert gate.check(_request(exit_order, planned_stop=None), account).verdict is Verdict.ACCEPT
        return
    planned = D(10_000) - D(stop_ticks) / 2
    decision = gate.check(_request(_order(str(quantity)), planned_stop=str(planned)), account)
    before = sum((D(q) * D(pct) * 10 for q, pct in held), D(0))
    cap = EQUITY * 6 / 100
    admitted = {Verdict.ACCEPT: D(quantity), Verdict.SHRINK: decision.quantity, Verdict.REFUSE: D(0)}[decision.verdict]
    assert admitted is not None and admitted % BTC.lot_size == 0
    if decision.verdict is not Verdict.REFUSE:
        assert before + admitted * (D(10_000) - planned) <= cap
    else:
        assert decision.reason


def test_the_instruments_own_limits_refuse_entries() -> None:
    from dataclasses import replace

    capped = replace(BTC, max_notional=D(20_000), min_quantity=D("0.01"))
    gate = _gate()
    big = gate.check(OrderRequest(_order("3"), capped, D(10_000), D(9_900)), _account())
    assert big.reason == "notional 30000 is above BTCUSD's maximum notional 20000"
    small = gate.check(OrderRequest(_order("0.002"), capped, D(10_000), D(9_900)), _account())
    assert small.reason == "quantity 0.002 is below BTCUSD's minimum quantity 0.01"
