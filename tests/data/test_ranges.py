"""Ingestion ranges are cut where the vendors' files are."""

from datetime import datetime, timezone

import pytest

from tradeloom.data.ranges import chunk_range


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_ticks_are_cut_at_midnight():
    assert chunk_range("tick", utc(2019, 2, 4, 22), utc(2019, 2, 6, 3)) == [
        (utc(2019, 2, 4, 22), utc(2019, 2, 5)),
        (utc(2019, 2, 5), utc(2019, 2, 6)),
        (utc(2019, 2, 6), utc(2019, 2, 6, 3)),
    ]


def test_hours_by_month_and_days_by_year():
    assert chunk_range("1h", utc(2019, 12, 20), utc(2020, 2, 1)) == [
        (utc(2019, 12, 20), utc(2020, 1, 1)),
        (utc(2020, 1, 1), utc(2020, 2, 1)),
    ]
    assert chunk_range("1d", utc(2019, 6, 1), utc(2020, 3, 1)) == [
        (utc(2019, 6, 1), utc(2020, 1, 1)),
        (utc(2020, 1, 1), utc(2020, 3, 1)),
    ]


def test_empty_and_naive_ranges():
    assert chunk_range("1m", utc(2020, 1, 2), utc(2020, 1, 1)) == []
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        chunk_range("1m", datetime(2020, 1, 1), utc(2020, 1, 2))


def test_ticks_in_units_of_several_days_still_cut_at_midnight():
    assert chunk_range("tick", utc(2019, 2, 1, 22), utc(2019, 2, 20, 5), tick_days=7) == [
        (utc(2019, 2, 1, 22), utc(2019, 2, 8)),
        (utc(2019, 2, 8), utc(2019, 2, 15)),
        (utc(2019, 2, 15), utc(2019, 2, 20, 5)),
    ]
    # The hourly incremental run: from the watermark to now, the new hours only, one unit.
    assert chunk_range("tick", utc(2019, 2, 4, 13, 59, 59), utc(2019, 2, 4, 15), tick_days=7) == [
        (utc(2019, 2, 4, 13, 59, 59), utc(2019, 2, 4, 15)),
    ]
    # Only ticks are grouped: minute bars stay one day per unit (one vendor candle file each).
    assert chunk_range("1m", utc(2019, 2, 4), utc(2019, 2, 6), tick_days=7) == [
        (utc(2019, 2, 4), utc(2019, 2, 5)),
        (utc(2019, 2, 5), utc(2019, 2, 6)),
    ]


@pytest.mark.parametrize("days", [0, -1, 1.5, True])
def test_tick_days_must_be_a_whole_positive_number(days):
    with pytest.raises(ValueError, match="tick_days must be a whole number of days >= 1"):
        chunk_range("tick", utc(2019, 2, 4), utc(2019, 2, 5), tick_days=days)
