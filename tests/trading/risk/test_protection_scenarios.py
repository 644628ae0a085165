"""The issue's exact scenarios: entry 100, stop 95 (1R = 5), fees, breakeven, trailing, scale-outs; mirrored."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeloom.trading.risk.protection import (
    PositionSide,
    ProtectionState,
    StopReason,
    round_trip_fee_offset,
)
from tradeloom.trading.risk.protection_rules import (
    LevelUnit,
    ProtectionConfig,
    ScaleLevel,
    TrailStep,
    parse_scale_levels,
    parse_trailing_ladder,
)

FEE = D("0.001")  # 0.1% a side
TICK, LOT = D("0.01"), D(1)


def _long() -> ProtectionState:
    offset = round_trip_fee_offset(PositionSide.LONG, D(100), FEE)
    return ProtectionState(ProtectionConfig(), PositionSide.LONG, D(100), D(95), D(4), TICK, LOT, offset)


def _short() -> ProtectionState:
    offset = round_trip_fee_offset(PositionSide.SHORT, D(100), FEE)
    return ProtectionState(ProtectionConfig(), PositionSide.SHORT, D(100), D(105), D(4), TICK, LOT, offset)


def test_fee_offset_is_the_exact_round_trip_breakeven() -> None:
    long_offset = round_trip_fee_offset(PositionSide.LONG, D(100), FEE)
    # selling at 100 + offset pays back 0.1% on the buy and 0.1% on the sell
    sell = D(100) + long_offset
    assert sell - D(100) == pytest.approx(D(100) * FEE + sell * FEE, abs=D("1e-20"))
    short_offset = round_trip_fee_offset(PositionSide.SHORT, D(100), FEE)
    buy = D(100) - short_offset
    assert D(100) - buy == pytest.approx(D(100) * FEE + buy * FEE, abs=D("1e-20"))


def test_long_breakeven_then_scale_outs_at_2r_3r_4r() -> None:
    state = _long()
    assert state.r == D(5)
    assert state.on_price(D("104.99")).stop_price == D(95)  # below 1R nothing moves

    at_1r = state.on_price(D(105))
    assert (at_1r.stop_price, at_1r.stop_reason, at_1r.stop_moved) == (D("100.21"), StopReason.BREAKEVEN, True)
    assert at_1r.exits == ()

    at_2r = state.on_price(D(110))
    assert [(e.label, e.quantity, e.trigger_price) for e in at_2r.exits] == [("scale_out_2R", D(2), D(110))]
    assert at_2r.stop_quantity == D(2)  # the stop is resized before the exit is sent
    assert (at_2r.stop_price, at_2r.stop_reason) == (D(105), StopReason.TRAILING)  # 1R below 110
    state.on_exit_fill(0, D(2))

    at_3r = state.on_price(D(115))
    assert [(e.label, e.quantity) for e in at_3r.exits] == [("scale_out_3R", D(1))]
    assert at_3r.stop_price == D("112.5")  # from 3R trail 0.5R
    state.on_exit_fill(1, D(1))

    at_4r = state.on_price(D(120))
    assert [(e.label, e.quantity) for e in at_4r.exits] == [("scale_out_4R", D(1))]
    assert (at_4r.stop_price, at_4r.stop_quantity) == (D("117.5"), D(0))
    state.on_exit_fill(2, D(1))
    assert state.is_closed


def test_short_is_the_mirror_image() -> None:
    state = _short()
    assert state.on_price(D("95.01")).stop_price == D(105)
    at_1r = state.on_price(D(95))
    assert (at_1r.stop_price, at_1r.stop_reason) == (D("99.80"), StopReason.BREAKEVEN)
    at_2r = state.on_price(D(90))
    assert [(e.quantity, e.trigger_price) for e in at_2r.exits] == [(D(2), D(90))]
    assert (at_2r.stop_price, at_2r.stop_quantity) == (D(95), D(2))
    state.on_exit_fill(0, D(2))
    at_3r = state.on_price(D(85))
    assert [e.quantity for e in at_3r.exits] == [D(1)] and at_3r.stop_price == D("87.5")
    state.on_exit_fill(1, D(1))
    at_4r = state.on_price(D(80))
    assert [e.quantity for e in at_4r.exits] == [D(1)] and at_4r.stop_price == D("82.5")
    state.on_exit_fill(2, D(1))
    assert state.is_closed


def test_a_gap_through_several_levels_takes_each_once() -> None:
    state = _long()
    decision = state.on_price(D(121))
    assert [(e.level, e.quantity) for e in decision.exits] == [(0, D(2)), (1, D(1)), (2, D(1))]
    assert decision.stop_quantity == 0
    assert state.on_price(D(130)).exits == ()


def test_exit_quantities_are_whole_lots_and_the_remainder_rides_the_stop() -> None:
    state = ProtectionState(ProtectionConfig(), PositionSide.LONG, D(100), D(95), D(3), TICK, LOT)
    first = state.on_price(D(110)).exits
    assert [e.quantity for e in first] == [D(1)]  # 50% of 3 rounds down to one lot
    second = state.on_price(D(115)).exits
    assert second == () and state.taken[1]  # 25% of 3 is below a lot: the level is spent, nothing sold
    assert state.stop_quantity == D(2)
    last = state.on_price(D(120)).exits
    assert [e.quantity for e in last] == [D(2)]  # the last level of a full ladder takes the rest


def test_a_canceled_scale_out_is_not_retried_and_the_stop_covers_it_again() -> None:
    state = _long()
    state.on_price(D(110))
    assert state.stop_quantity == D(2)
    state.on_exit_closed(0)
    assert state.stop_quantity == D(4)
    assert state.on_price(D(111)).exits == ()


def test_percent_levels_and_disabled_scaling() -> None:
    config = ProtectionConfig(scale_levels=parse_scale_levels("5%:50,10%:50"))
    state = ProtectionState(config, PositionSide.LONG, D(200), D(190), D(2), TICK, LOT)
    assert [e.trigger_price for e in state.on_price(D(210)).exits] == [D(210)]
    off = ProtectionState(ProtectionConfig(scaled_exits_enabled=False), PositionSide.LONG, D(100), D(95), D(4), TICK, LOT)
    assert off.on_price(D(130)).exits == ()


def test_fees_larger_than_the_move_still_protect_the_entry() -> None:
    state = ProtectionState(ProtectionConfig(), PositionSide.LONG, D(100), D(99), D(1), TICK, LOT, D(2))
    assert state.on_price(D(101)).stop_price == D(100)


def test_parsing_levels_and_ladder() -> None:
    assert parse_scale_levels("3:25, 2:50 ,4R:25") == (
        ScaleLevel(D(2), D(50)), ScaleLevel(D(3), D(25)), ScaleLevel(D(4), D(25)),
    )
    assert parse_scale_levels("1.5%:100") == (ScaleLevel(D("1.5"), D(100), LevelUnit.PERCENT),)
    assert parse_trailing_ladder("3:0.5,1.5:1") == (TrailStep(D("1.5"), D(1)), TrailStep(D(3), D("0.5")))
    assert ScaleLevel(D("2.50"), D(50)).label == "scale_out_2.5R"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2:50,3", "TRIGGER:SHARE"),
        ("2:fifty", "not a number"),
        ("2:50,3%:50", "mix R and percent"),
    ],
)
def test_bad_level_text_is_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_scale_levels(text)


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="more than 100%"):
        ProtectionConfig(scale_levels=parse_scale_levels("2:60,3:50"))
    with pytest.raises(ValueError, match="breakeven trigger"):
        ProtectionConfig(breakeven_trigger_r=D(0))
    with pytest.raises(ValueError, match="losing side"):
        ProtectionState(ProtectionConfig(), PositionSide.SHORT, D(100), D(95), D(1), TICK, LOT)
    with pytest.raises(ValueError, match="multiple of the lot"):
        ProtectionState(ProtectionConfig(), PositionSide.LONG, D(100), D(95), D("1.5"), TICK, LOT)
    state = _long()
    state.on_price(D(110))
    with pytest.raises(ValueError, match="exceeds its pending"):
        state.on_exit_fill(0, D(3))
    with pytest.raises(ValueError, match="exceeds the stop's quantity"):
        state.on_stop_fill(D(3))
