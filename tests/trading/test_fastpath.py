"""The fast path: hand-computed scenarios with exact fills and fees, and equality with the reference on random paths."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.trading.test_fastpath_reference import reference_backtest
from tradeloom.trading.fastpath import TRADE_DTYPE, FastPolicy, run_arrays, trade_records
from tradeloom.trading.orders import Side
from tradeloom.trading.risk.protection_rules import ProtectionConfig

FIXED = FastPolicy(stop_pct=2, take_profit_pct=4, fee_pct=0.1)


def bars(rows: list[tuple[float, float, float, float]]) -> tuple[np.ndarray, ...]:
    """(open, high, low, close) rows as four arrays."""
    array = np.array(rows, dtype=np.float64)
    return array[:, 0], array[:, 1], array[:, 2], array[:, 3]


def signals(n: int, entries: dict[int, int], exits: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    entry = np.zeros(n, np.int8)
    for index, side in entries.items():
        entry[index] = side
    exit_ = np.zeros(n, np.bool_)
    exit_[list(exits)] = True
    return entry, exit_


def run(rows, entries, exits=(), policy=FIXED):
    o, h, lo, c = bars(rows)
    entry, exit_ = signals(len(rows), entries, exits)
    return run_arrays(o, h, lo, c, entry, exit_, policy)


def only_trade(result):
    assert len(result.trades) == 1
    return result.trades[0]


# -- hand-computed scenarios (entry 100, stop 98, target 104, fee 0.1% a side) -------------------------

def test_gap_through_stop_fills_at_the_open():
    result = run([(100, 100, 100, 100), (100, 101, 99.5, 100), (97, 97.5, 96, 97)], {0: 1})
    trade = only_trade(result)
    assert (trade["entry_index"], trade["exit_index"]) == (1, 2)
    assert (trade["entry_price"], trade["exit_price"]) == (100.0, 97.0)
    assert result.reason_label(int(trade["reason"])) == "stop"
    assert trade["entry_fee"] == pytest.approx(0.1, abs=1e-12)
    assert trade["exit_fee"] == pytest.approx(0.097, abs=1e-12)
    assert result.final_equity == pytest.approx(100_000 - 3 - 0.1 - 0.097, abs=1e-9)


def test_stop_and_target_in_one_bar_stops_out():
    result = run([(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 105, 97, 101)], {0: 1})
    trade = only_trade(result)
    assert trade["exit_index"] == 2 and trade["exit_price"] == pytest.approx(98.0, abs=1e-12)
    assert result.reason_label(int(trade["reason"])) == "stop"


def test_a_bar_that_opens_through_the_target_takes_profit_at_the_open_before_its_low():
    result = run([(100, 100, 100, 100), (100, 100.5, 99.5, 100), (105, 106, 97.5, 99)], {0: 1})
    trade = only_trade(result)
    assert trade["exit_price"] == 105 and trade["reason"] == 4


def test_a_target_touched_but_not_traded_through_does_not_fill():
    result = run([(100, 100, 100, 100), (100, 100.5, 99.5, 100), (101, 104, 100.5, 103)], {0: 1})
    assert len(result.trades) == 0 and result.open_entry_index == 1


def test_stop_is_checked_on_the_entry_bar():
    result = run([(100, 100, 100, 100), (100, 100.5, 97.9, 98.5)], {0: 1})
    trade = only_trade(result)
    assert (trade["entry_index"], trade["exit_index"]) == (1, 1)
    assert trade["exit_price"] == pytest.approx(98.0, abs=1e-12)


def test_target_traded_through_fills_at_its_price_and_a_gap_fills_at_the_open():
    touched = only_trade(run([(100, 100, 100, 100), (100, 101, 99, 100), (101, 104.2, 100.5, 103)], {0: 1}))
    assert touched["exit_price"] == pytest.approx(104.0, abs=1e-12) and touched["reason"] == 4
    gapped = only_trade(run([(100, 100, 100, 100), (100, 101, 99, 100), (106, 107, 105, 106)], {0: 1}))
    assert gapped["exit_price"] == 106.0 and gapped["reason"] == 4


def test_cross_down_exits_at_the_next_open_with_exact_fees():
    rows = [(100, 100, 100, 100), (100, 101, 99.5, 100.5), (100.5, 101, 100, 101), (102, 102.5, 101.5, 102)]
    result = run(rows, {0: 1}, exits=(2,))
    trade = only_trade(result)
    assert (trade["entry_index"], trade["exit_index"], trade["exit_price"]) == (1, 3, 102.0)
    assert result.reason_label(int(trade["reason"])) == "signal"
    assert result.fees == pytest.approx(0.1 + 0.102, abs=1e-12)
    assert result.final_equity == pytest.approx(100_000 + 2 - 0.1 - 0.102, abs=1e-9)
    assert list(result.equity[:3]) == pytest.approx([100_000, 100_000.4, 100_000.9], abs=1e-9)


def test_trade_records_carry_bar_times_net_pnl_fees_and_reason():
    rows = [(100, 100, 100, 100), (100, 101, 99.5, 100.5), (100.5, 101, 100, 101), (102, 102.5, 101.5, 102)]
    result = run(rows, {0: 1}, exits=(2,))
    ts = np.array([0, 60, 120, 180], dtype=np.int64) * 1_000_000_000
    (record,) = trade_records(result, ts, "TEST")
    assert (record.symbol, record.side, record.quantity) == ("TEST", Side.BUY, Decimal(1))
    assert (record.entry_ts, record.exit_ts) == (60_000_000_000, 180_000_000_000)
    assert (record.entry_price, record.exit_price, record.exit_reason) == (Decimal(100), Decimal(102), "signal")
    assert float(record.fees) == pytest.approx(0.202, abs=1e-12)
    assert float(record.pnl) == pytest.approx(2 - 0.202, abs=1e-12)


def test_signal_on_the_last_bar_is_not_acted_on_and_an_open_position_is_marked_to_market():
    result = run([(100, 100, 100, 100), (100, 101, 99.5, 100.5), (100.5, 101, 100, 101)], {0: 1, 2: 1}, exits=(2,))
    assert len(result.trades) == 0
    assert (result.open_quantity, result.open_entry_index, result.open_entry_price) == (1.0, 1, 100.0)
    assert result.final_equity == pytest.approx(100_000 + 1 - 0.1, abs=1e-9)


def test_entry_signals_while_holding_and_short_entries_in_long_mode_are_ignored():
    rows = [(100, 100, 100, 100)] * 5
    result = run(rows, {0: 1, 1: 1, 2: -1})
    assert len(result.trades) == 0 and result.open_entry_index == 1


# -- the protection scenario: entry 100, stop 95 (1R = 5), fee f --------------------------------

PROTECT = FastPolicy.protection(ProtectionConfig(trailing_ladder=()), stop_pct=5, fee_pct=0.1)


def test_protection_takes_each_level_once_at_the_open_after_the_close_that_reached_it():
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 105, 99, 104), (104, 110, 103, 109),
            (110, 115, 109, 114), (115, 120, 114, 119), (120, 121, 119, 120)]
    result = run(rows, {0: 1}, policy=PROTECT)
    t = result.trades
    assert [result.reason_label(int(c)) for c in t["reason"]] == ["scale_out_2R", "scale_out_3R", "scale_out_4R"]
    assert list(t["exit_price"]) == [110, 115, 120]
    assert list(t["quantity"]) == [0.5, 0.25, 0.25]
    assert list(t["exit_index"]) == [4, 5, 6]
    assert result.open_quantity == 0.0


def test_protection_r_comes_from_the_signal_close():
    rows = [(100, 100, 100, 100), (102, 102, 99, 101), (101, 101, 96, 97)]
    trade = only_trade(run(rows, {0: 1}, policy=PROTECT))
    assert trade["exit_price"] == 102 - 5 and trade["reason"] == 1  # 5% of the close 100, from the entry 102


def test_a_stop_gapped_at_the_open_goes_before_the_market_orders_of_the_last_close():
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 110, 99, 104), (94, 95, 93, 94)]
    result = run(rows, {0: 1}, policy=PROTECT)
    t = result.trades
    # the close of bar 2 saw 2R (half to scale out); bar 3 opens through the breakeven stop
    assert [result.reason_label(int(c)) for c in t["reason"]] == ["breakeven", "scale_out_2R"]
    assert list(t["quantity"]) == [0.5, 0.5] and list(t["exit_price"]) == [94, 94]


def test_an_exit_signal_at_the_close_that_reached_a_level_exits_everything_instead():
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 110, 99, 104), (103, 104, 102, 103)]
    result = run(rows, {0: 1}, exits=(2,), policy=PROTECT)
    trade = only_trade(result)
    assert (trade["exit_index"], trade["exit_price"], trade["quantity"]) == (3, 103, 1.0)
    assert result.reason_label(int(trade["reason"])) == "signal"


def test_after_an_exit_withdrew_the_scale_out_a_gapped_stop_covers_the_whole_position_again():
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 110, 99, 104), (99, 100, 98, 99)]
    result = run(rows, {0: 1}, exits=(2,), policy=PROTECT)
    trade = only_trade(result)
    assert result.reason_label(int(trade["reason"])) == "breakeven"
    assert (trade["quantity"], trade["exit_price"]) == (1.0, 99)


def test_protection_breakeven_stop_is_entry_plus_round_trip_fees():
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 105, 99, 104), (104, 104.5, 99, 100)]
    result = run(rows, {0: 1}, policy=PROTECT)
    assert result.trades["exit_index"][0] == 3
    trade = only_trade(result)
    breakeven = 100 + 2 * 100 * 0.001 / (1 - 0.001)
    assert trade["exit_price"] == pytest.approx(breakeven, abs=1e-12)
    assert result.reason_label(int(trade["reason"])) == "breakeven"
    assert trade["exit_price"] * (1 - 0.001) == pytest.approx(100 * (1 + 0.001), abs=1e-12)


def test_protection_mirrored_for_a_short():
    policy = FastPolicy.protection(ProtectionConfig(trailing_ladder=()), stop_pct=5, fee_pct=0.1, direction=-1)
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 101, 95, 96), (96, 97, 90, 91),
            (90, 91, 85, 86), (85, 86, 80, 81), (80, 81, 79, 80)]
    result = run(rows, {0: -1}, policy=policy)
    t = result.trades
    assert list(t["exit_price"]) == [90, 85, 80]
    assert list(t["quantity"]) == [0.5, 0.25, 0.25]
    assert result.final_equity == pytest.approx(
        100_000 + 0.5 * 10 + 0.25 * 15 + 0.25 * 20 - 0.1 - 0.001 * (45 + 21.25 + 20), abs=1e-9)


def test_trailing_ladder_uses_its_highest_reached_rung():
    policy = FastPolicy(stop_pct=5, fee_pct=0.0, breakeven_r=1.0, trailing=((1.5, 1.0), (3.0, 0.5)))
    rows = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 108, 99, 107), (107, 116, 106, 115),
            (115, 115.5, 110, 111)]
    result = run(rows, {0: 1}, policy=policy)
    trade = only_trade(result)
    assert trade["exit_price"] == pytest.approx(116 - 2.5, abs=1e-12)  # 3.2R reached: trail 0.5R = 2.5
    assert result.reason_label(int(trade["reason"])) == "trailing"


def test_bad_input_is_refused_with_the_reason():
    o, h, lo, c = bars([(100, 101, 99, 100), (100, 99, 98, 100)])
    entry, exit_ = signals(2, {})
    with pytest.raises(ValueError, match="bar 1 is inconsistent"):
        run_arrays(o, h, lo, c, entry, exit_, FIXED)
    with pytest.raises(ValueError, match="open is not finite at index 0"):
        run_arrays(np.array([np.nan, 100.0]), h, lo, c, entry, exit_, FIXED)
    with pytest.raises(ValueError, match="stop_pct"):
        FastPolicy(stop_pct=0)
    with pytest.raises(ValueError, match="more than the position"):
        FastPolicy(stop_pct=2, scale_outs=((2, 60), (3, 50)))
    with pytest.raises(ValueError, match="direction"):
        FastPolicy(stop_pct=2, direction=0)


# -- property: the kernel equals the reference on random paths and policies ---------------------------

@st.composite
def price_paths(draw):
    n = draw(st.integers(2, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    vol = draw(st.sampled_from([0.005, 0.02, 0.05]))
    close = 100 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.concatenate(([100.0], close[:-1])) * np.exp(rng.normal(0, vol / 2, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, vol, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, vol, n)))
    tick = draw(st.sampled_from([0.0, 0.01]))
    if tick:
        open_, high, low, close = (np.round(a, 2) for a in (open_, high, low, close))
        high = np.maximum(high, np.maximum(open_, close))
        low = np.minimum(low, np.minimum(open_, close))
    entry = rng.choice(np.array([-1, 0, 0, 0, 1], np.int8), n)
    exit_ = rng.random(n) < 0.15
    return open_, high, low, close, entry, exit_, tick


@st.composite
def policies(draw, tick: float):
    protect = draw(st.booleans())
    common = dict(
        stop_pct=draw(st.sampled_from([0.5, 2.0, 5.0])),
        fee_pct=draw(st.sampled_from([0.0, 0.1, 0.25])),
        direction=draw(st.sampled_from([1, -1])),
        size=draw(st.sampled_from([1.0, 4.0, 10.0])),
        tick_size=tick,
        lot_size=draw(st.sampled_from([0.0, 1.0])),
    )
    if not protect:
        return FastPolicy(take_profit_pct=draw(st.sampled_from([None, 1.0, 4.0])), **common)
    levels = draw(st.sampled_from([(), ((2.0, 50.0), (3.0, 25.0), (4.0, 25.0)), ((1.0, 30.0), (2.5, 30.0))]))
    return FastPolicy(
        take_profit_pct=draw(st.sampled_from([None, 8.0])),
        breakeven_r=draw(st.sampled_from([None, 1.0, 0.5])),
        trailing=draw(st.sampled_from([(), ((1.5, 1.0), (3.0, 0.5)), ((1.0, 0.25),)])),
        scale_outs=levels,
        **common,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_equals_the_reference_on_random_paths(data):
    open_, high, low, close, entry, exit_, tick = data.draw(price_paths())
    policy = data.draw(policies(tick))
    result = run_arrays(open_, high, low, close, entry, exit_, policy)
    rows, equity, cash = reference_backtest(open_, high, low, close, entry, exit_, policy)
    expected = np.array(rows, dtype=TRADE_DTYPE)
    assert len(result.trades) == len(expected)
    for name in TRADE_DTYPE.names:
        np.testing.assert_allclose(result.trades[name], expected[name], rtol=1e-12, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(result.equity, equity, rtol=1e-12, atol=1e-9)
    assert result.cash == pytest.approx(cash, rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_equity_is_cash_plus_marked_position_and_quantities_never_exceed_the_entry(data):
    open_, high, low, close, entry, exit_, tick = data.draw(price_paths())
    policy = data.draw(policies(tick))
    result = run_arrays(open_, high, low, close, entry, exit_, policy)
    t = result.trades
    realised = float(result.pnl.sum())
    unrealised = 0.0
    if result.open_entry_index >= 0:
        open_fee = abs(result.open_quantity) * result.open_entry_price * policy.fee_pct / 100
        unrealised = result.open_quantity * (close[-1] - result.open_entry_price) - open_fee
    assert result.final_equity == pytest.approx(policy.cash + realised + unrealised, rel=1e-12, abs=1e-9)
    for position in np.unique(t["position"]):
        sold = t["quantity"][t["position"] == position].sum()
        assert sold <= policy.size * (1 + 1e-12)
    # an exit never comes before its entry, and positions never overlap
    assert (t["exit_index"] >= t["entry_index"]).all()
    firsts = np.unique(t["position"], return_index=True)[1]
    lasts = [int(np.flatnonzero(t["position"] == p)[-1]) for p in np.unique(t["position"])]
    assert (t["entry_index"][firsts][1:] > t["exit_index"][lasts][:-1]).all()
