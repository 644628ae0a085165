"""Positions as folds over fills, exact in Decimal."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.events import Fill
from tradeloom.trading.orders import Liquidity, Side
from tradeloom.trading.positions import Position, fold


def fill(side: Side, qty: str, price: str, fee: str = "0", n: int = 1) -> Fill:
    return Fill(f"f{n}", f"c{n}", f"v{n}", "BTCUSD", side, D(price), D(qty), D(fee), "USD", Liquidity.TAKER, n)


def test_long_partial_close_realises_against_average_cost() -> None:
    p = fold("BTCUSD", "USD", [
        fill(Side.BUY, "1", "100", "0.1", 1),
        fill(Side.BUY, "1", "110", "0.11", 2),
        fill(Side.SELL, "1", "120", "0.12", 3),
    ])
    assert p.quantity == D("1")
    assert p.average_entry == D("105")
    assert p.realised_pnl == D("15")
    assert p.fees == D("0.33")
    assert p.unrealised_pnl(D("100")) == D("-5")


def test_short_then_flip_to_long() -> None:
    p = fold("BTCUSD", "USD", [fill(Side.SELL, "2", "50", n=1), fill(Side.BUY, "3", "40", n=2)])
    assert p.realised_pnl == D("20")  # 2 x (50 - 40)
    assert p.quantity == D("1") and p.average_entry == D("40")
    assert p.side is Side.BUY


def test_a_fill_in_another_fee_currency_is_refused() -> None:
    f = Fill("f", "c", "v", "BTCUSD", Side.BUY, D("1"), D("1"), D("0.001"), "BTC", Liquidity.TAKER, 1)
    with pytest.raises(ValueError, match="charges its fee in BTC"):
        Position("BTCUSD", "USD").apply(f)


fills_strategy = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 500), st.integers(1, 100_000), st.integers(0, 50)),
    min_size=1, max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(fills_strategy, st.integers(1, 100_000))
def test_identity_cash_plus_value_equals_start_plus_pnl_minus_fees(raw: list, mark_units: int) -> None:
    """cash + quantity x mark == start + realised + unrealised - fees, exactly, after every fill."""
    start = D("100000")
    cash = start
    position = Position("BTCUSD", "USD")
    mark = D(mark_units) / 100
    for n, (side, qty, price, fee) in enumerate(raw):
        f = fill(side, str(D(qty) / 1000), str(D(price) / 100), str(D(fee) / 1000), n)
        position = position.apply(f)
        cash -= f.signed_quantity * f.price + f.fee
        assert cash + position.quantity * mark == start + position.realised_pnl + position.unrealised_pnl(mark) - position.fees
