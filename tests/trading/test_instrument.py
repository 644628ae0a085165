"""Instrument increments, safe rounding and exchange rules."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeloom.trading.instrument import Instrument, InstrumentKind, instrument_for


def eurusd() -> Instrument:
    return Instrument("EURUSD", InstrumentKind.FX, "EUR", "USD", D("0.00001"), D("1000"), D("10"), D("5000000"))


def test_precision_is_derived_from_the_increments() -> None:
    inst = instrument_for("BTCUSDT", "spot", "0.10", "0.001", "5", base="BTC", quote="USDT")
    assert (inst.price_precision, inst.size_precision) == (1, 3)
    assert eurusd().price_precision == 5 and eurusd().size_precision == 0


def test_round_price_to_the_nearest_tick() -> None:
    assert eurusd().round_price(1.123456) == D("1.12346")
    assert eurusd().round_price(D("1.123454")) == D("1.12345")


def test_safe_price_buy_down_sell_up() -> None:
    inst = eurusd()
    assert inst.safe_price("BUY", D("1.123459")) == D("1.12345")
    assert inst.safe_price("SELL", D("1.123451")) == D("1.12346")
    assert inst.safe_price("SELL", D("1.12345")) == D("1.12345")


def test_non_decimal_ticks_round_on_their_grid() -> None:
    inst = instrument_for("ES", "equity", "0.25", "2", base="ES", quote="USD")
    assert inst.round_price(D("100.13")) == D("100.25")
    assert inst.safe_price("BUY", D("100.49")) == D("100.25")
    assert inst.safe_price("SELL", D("100.26")) == D("100.50")
    assert inst.round_quantity(D("7.9")) == D("6")


def test_quantities_round_down_to_the_lot() -> None:
    assert eurusd().round_quantity(D("1999")) == D("1000")
    assert eurusd().round_quantity(2999.99) == D("2000")
    assert eurusd().round_quantity(D("999")) == D("0")


@pytest.mark.parametrize(
    ("quantity", "price", "problem"),
    [
        (D("1000"), D("1.10000"), None),
        (D("0"), D("1.1"), "quantity 0 must be positive"),
        (D("1500"), D("1.1"), "quantity 1500 is not a multiple of the lot size 1000"),
        (D("1000"), D("1.100001"), "price 1.100001 is not a multiple of the tick size 0.00001"),
        (D("1000"), D("0.00500"), "notional 5.00000 is below the minimum notional 10"),
        (D("5000000"), D("1.1"), "notional 5500000.0 is above the maximum notional 5000000"),
    ],
)
def test_order_problems_name_the_rule(quantity: D, price: D, problem: str | None) -> None:
    assert eurusd().order_problem(quantity, price) == problem


def test_bad_instruments_are_refused_with_the_field() -> None:
    with pytest.raises(ValueError, match="tick_size must be > 0"):
        Instrument("X", "spot", "A", "B", D("0"), D("1"))
    with pytest.raises(ValueError, match="lot_size must be a decimal number"):
        Instrument("X", "spot", "A", "B", D("1"), "lots")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'bond'"):
        Instrument("X", "bond", "A", "B", D("1"), D("1"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot split"):
        instrument_for("BTC", "spot", "1", "1")


def test_an_instrument_from_a_market_data_listing() -> None:
    from tradeloom.data.instruments import instrument
    from tradeloom.trading.instrument import instrument_from_listing

    eur = instrument_from_listing(instrument("EURUSD"), lot_size="1000", min_notional="1")
    assert (eur.kind, eur.base, eur.quote, eur.tick_size, eur.lot_size) == (InstrumentKind.FX, "EUR", "USD", D("0.00001"), D("1000"))
    jpy = instrument_from_listing(instrument("USDJPY"))
    assert jpy.tick_size == D("0.001") and jpy.price_precision == 3
    ibm = instrument_from_listing(instrument("IBM"))
    assert (ibm.kind, ibm.base, ibm.tick_size) == (InstrumentKind.EQUITY, "IBM", D("0.01"))
    btc = instrument_from_listing(instrument("BTCUSD"), lot_size="0.0001", tick_size="0.5")
    assert (btc.kind, btc.tick_size) == (InstrumentKind.SPOT, D("0.5"))
