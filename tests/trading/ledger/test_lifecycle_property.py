"""The ledger's lifecycle guard agrees with the domain's: legal histories always store, stale copies never do."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.trading.ledger.builders import limit_order, order_fields
from tradeloom.trading.ledger import SqlLedger
from tradeloom.trading.orders import TRANSITIONS, IllegalTransitionError, OrderStatus

_ids = itertools.count()


@st.composite
def legal_histories(draw: st.DrawFn) -> list[OrderStatus]:
    """A walk along the domain's transition table from NEW, as far as it goes or the draw stops it."""
    path = [OrderStatus.NEW]
    while True:
        options = sorted(TRANSITIONS[path[-1]], key=lambda status: status.value)
        if not options or not draw(st.booleans()):
            return path
        path.append(draw(st.sampled_from(options)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=legal_histories(), data=st.data())
def test_recording_any_snapshots_of_a_legal_history_is_accepted_and_going_back_is_not(
    ledger: SqlLedger, history: list[OrderStatus], data: st.DataObject
) -> None:
    recorded = sorted(data.draw(st.sets(st.integers(0, len(history) - 1), min_size=1), label="recorded steps"))
    order = limit_order(f"c-{next(_ids)}")  # one ledger for every example, a new order in each
    for step in recorded:
        order.status = history[step]
        ledger.record_order(order)  # the engine may skip steps it made in memory
    last = history[recorded[-1]]
    stored = ledger.order(order.client_order_id)
    assert stored is not None and stored.status is last
    for earlier in sorted({history[step] for step in range(recorded[-1])} - {last}, key=lambda status: status.value):
        order.status = earlier
        with pytest.raises(IllegalTransitionError):
            ledger.record_order(order)
        after = ledger.order(order.client_order_id)
        assert after is not None and order_fields(after) == order_fields(stored)
