"""Splitting an ingestion range into units of work that match the vendors' files."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def require_utc(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC; ValueError naming ``name`` when it is naive."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC); got naive {moment.isoformat()}")
    return moment.astimezone(timezone.utc)


def require_utc_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC; ValueError when either is naive or the range is empty."""
    start, end = require_utc(start, "start"), require_utc(end, "end")
    if not start < end:
        raise ValueError(f"empty range: start {start.isoformat()} is not before end {end.isoformat()}")
    return start, end


def _next_unit(moment: datetime, unit: str) -> datetime:
    if unit == "day":
        return datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc) + timedelta(days=1)
    if unit == "month":
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return datetime(year, month, 1, tzinfo=timezone.utc)
    return datetime(moment.year + 1, 1, 1, tzinfo=timezone.utc)


def chunk_unit(timeframe: str) -> str:
    """The span one unit of work covers: a day of ticks or minutes, a month of hours, a year of days."""
    if timeframe == "tick" or timeframe.endswith("m"):
        return "day"
    if timeframe.endswith("h"):
        return "month"
    return "year"


def chunk_range(timeframe: str, start: datetime, end: datetime, tick_days: int = 1) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at calendar boundaries of ``chunk_unit(timeframe)``; empty when end <= start.

    Ticks are cut every ``tick_days`` UTC midnights (the first unit runs from ``start`` to the
    ``tick_days``-th midnight after it), so one store write covers several days of ticks.
    """
    start, end = require_utc(start, "start"), require_utc(end, "end")
    if isinstance(tick_days, bool) or not isinstance(tick_days, int) or tick_days < 1:
        raise ValueError(f"tick_days must be a whole number of days >= 1, got {tick_days!r}")
    unit = chunk_unit(timeframe)
    per_unit = tick_days if timeframe == "tick" else 1
    chunks: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        stop = cursor
        for _ in range(per_unit):
            stop = _next_unit(stop, unit)
        stop = min(stop, end)
        chunks.append((cursor, stop))
        cursor = stop
    return chunks
