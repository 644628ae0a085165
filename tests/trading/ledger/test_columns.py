"""Money and time survive the database exactly: any finite decimal, any aware datetime."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeloom.trading.ledger import EquitySnapshot, SqlLedger, from_ns, utc_ns
from tradeloom.trading.ledger.columns import dump_json, load_json

UTC = UTC
finite_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: len(str(d)) <= 80)
aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]),
)
_moments = itertools.count(1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(finite_decimals, min_size=5, max_size=5))
def test_any_finite_decimal_comes_back_digit_for_digit(ledger: SqlLedger, values: list[Decimal]) -> None:
    moment = from_ns(next(_moments) * 1000)  # one snapshot per example, told apart by its time
    ledger.record_equity(EquitySnapshot(moment, *values))
    (stored,) = ledger.equity_snapshots(start=moment, end=from_ns(utc_ns(moment) + 1000))
    read = [stored.cash, stored.equity, stored.realised, stored.unrealised, stored.fees]
    assert [value.as_tuple() for value in read] == [value.as_tuple() for value in values]


@settings(deadline=None)  # pure computation, but the CI machine may be busy
@given(moment=aware_datetimes)
def test_an_aware_datetime_round_trips_through_nanoseconds(moment: datetime) -> None:
    back = from_ns(utc_ns(moment))
    # compared in UTC: a wall time in a DST gap compares unequal to everything across zones
    assert back == moment.astimezone(UTC) and back.tzinfo is UTC


@settings(deadline=None)
@given(ns=st.integers(0, 2**62))
def test_nanoseconds_come_back_to_the_microsecond(ns: int) -> None:
    assert utc_ns(from_ns(ns)) == ns - ns % 1000


@settings(deadline=None)
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | finite_decimals,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
))
def test_json_blobs_keep_their_decimals(value: object) -> None:
    back = load_json(dump_json(value, "blob"))
    assert _exactly(back) == _exactly(value)  # Decimal("1.10") stays 1.10, not 1.1 or a float


def _exactly(value: object) -> object:
    """``value`` with each decimal as its digits and exponent, each mapping as sorted items."""
    if isinstance(value, Decimal):
        return ("decimal", value.as_tuple())
    if isinstance(value, dict):
        return ("dict", sorted((key, _exactly(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", [_exactly(item) for item in value])
    return (type(value).__name__, value)


def test_a_naive_datetime_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        utc_ns(datetime(2026, 1, 1), "start")
