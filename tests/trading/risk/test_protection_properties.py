"""Hypothesis: every protection invariant on random price paths and random orders of events."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.risk.protection import PositionSide, ProtectionState
from tradeloom.trading.risk.protection_rules import ProtectionConfig, ScaleLevel, TrailStep

TICK, LOT = D("0.01"), D("0.1")

configs = st.builds(
    ProtectionConfig,
    breakeven_trigger_r=st.sampled_from([D("0.5"), D(1), D("1.5")]),
    trailing_ladder=st.sampled_from([(), (TrailStep(D("1.5"), D(1)), TrailStep(D(3), D("0.5"))), (TrailStep(D(1), D("0.25")),)]),
    scaled_exits_enabled=st.booleans(),
    scale_levels=st.sampled_from([
        (ScaleLevel(D(2), D(50)), ScaleLevel(D(3), D(25)), ScaleLevel(D(4), D(25))),
        (ScaleLevel(D(1), D(33)), ScaleLevel(D(2), D(33))),
        (ScaleLevel(D("0.5"), D(10)), ScaleLevel(D(1), D(90))),
    ]),
)

# An event: ("price", step in ticks) | ("exit", level, share of pending in %) | ("close", level) | ("stop", share %)
events = st.lists(
    st.one_of(
        st.tuples(st.just("price"), st.integers(-300, 300)),
        st.tuples(st.just("exit"), st.integers(0, 2), st.integers(1, 100)),
        st.tuples(st.just("close"), st.integers(0, 2)),
        st.tuples(st.just("stop"), st.integers(1, 100)),
        st.tuples(st.just("entry"), st.integers(1, 20)),
        st.tuples(st.just("reduce"), st.integers(1, 100)),
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(
    config=configs,
    side=st.sampled_from(list(PositionSide)),
    risk_ticks=st.integers(1, 2000),
    lots=st.integers(1, 200),
    fee_ticks=st.integers(0, 50),
    script=events,
)
def test_invariants_hold_for_any_path_and_event_order(
    config: ProtectionConfig, side: PositionSide, risk_ticks: int, lots: int, fee_ticks: int, script: list[tuple]
) -> None:
    entry = D(100)
    sign = side.sign
    state = ProtectionState(
        config, side, entry, entry - sign * risk_ticks * TICK, lots * LOT, TICK, LOT, fee_ticks * TICK
    )
    price = entry
    exited_by_level = [D(0)] * len(state.pending)
    exit_orders_per_level = [0] * len(state.pending)
    reached = False
    for event in script:
        before = state.stop
        if event[0] == "price":
            price = max(TICK, price + event[1] * TICK)
            was_open = not state.is_closed
            decision = state.on_price(price)
            for exit_ in decision.exits:
                exit_orders_per_level[exit_.level] += 1
                assert exit_.quantity > 0 and exit_.quantity % LOT == 0
            assert decision.stop_quantity == state.stop_quantity
            if was_open and (price - entry) * sign >= config.breakeven_trigger_r * state.r:
                reached = True
        elif event[0] == "exit" and event[1] < len(state.pending) and state.pending[event[1]] > 0:
            quantity = max(LOT, (state.pending[event[1]] * event[2] / 100 // LOT) * LOT)
            state.on_exit_fill(event[1], quantity)
            exited_by_level[event[1]] += quantity
        elif event[0] == "close" and event[1] < len(state.pending):
            state.on_exit_closed(event[1])
        elif event[0] == "stop" and state.stop_quantity > 0:
            quantity = max(LOT, (state.stop_quantity * event[1] / 100 // LOT) * LOT)
            state.on_stop_fill(quantity)
        elif event[0] == "entry" and not state.is_closed:
            state.add_quantity(event[1] * LOT)  # a late fill of the entry order
        elif event[0] == "reduce" and state.stop_quantity > 0:
            quantity = max(LOT, (state.stop_quantity * event[1] / 100 // LOT) * LOT)
            state.on_position_reduced(quantity)  # a signal or conditional exit
        # the stop never loosens
        assert (state.stop - before) * sign >= 0
        # after the breakeven trigger the stop is never on the losing side of entry
        if reached:
            assert (state.stop - entry) * sign >= 0
        # scale-outs, filled and pending, never exceed the position; the rest is whole lots under the stop
        assert sum(exited_by_level) + state.pending_total <= state.quantity
        assert 0 <= state.pending_total <= state.remaining
        assert state.stop_quantity >= 0 and state.stop_quantity % LOT == 0
        # each level is taken once
        assert all(count <= 1 for count in exit_orders_per_level)
        assert state.remaining >= 0
