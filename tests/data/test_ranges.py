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
