"""Trading calendars: when a market is open, and which gaps in a series it cannot explain.

Calendars (``MarketInstrument.calendar``):
- ``fx``: Sunday 17:00 to Friday 17:00 New York time (21:00/22:00 UTC with DST).
- ``24x7``: always open (crypto).
- ``equity``: weekdays 09:30-16:00 New York time.
Holidays are not modelled: a gap on a holiday is reported as a warning, never a failure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CALENDARS = ("fx", "24x7", "equity")
_DAY_NS = 86_400_000_000_000
_NEW_YORK = "America/New_York"


def _new_york(ts_ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ts_ns, dtype="int64").view("datetime64[ns]"), tz="UTC").tz_convert(_NEW_YORK)


def is_open(calendar: str, ts_ns: np.ndarray) -> np.ndarray:
    """For each UTC nanosecond timestamp, whether ``calendar``'s market is open at that instant."""
    ts_ns = np.asarray(ts_ns, dtype="int64")
    if calendar == "24x7":
        return np.ones(ts_ns.shape, dtype=bool)
    local = _new_york(ts_ns)
    weekday = np.asarray(local.weekday)  # Monday = 0
    minutes = np.asarray(local.hour) * 60 + np.asarray(local.minute)
    if calendar == "fx":
        sunday_evening = (weekday == 6) & (minutes >= 17 * 60)
        friday_day = (weekday == 4) & (minutes < 17 * 60)
        return (weekday <= 3) | sunday_evening | friday_day
    if calendar == "equity":
        return (weekday <= 4) & (minutes >= 9 * 60 + 30) & (minutes < 16 * 60)
    raise ValueError(f"unknown calendar {calendar!r}; known: {', '.join(CALENDARS)}")


def is_trading_day(calendar: str, day_ns: np.ndarray) -> np.ndarray:
    """For each UTC midnight (a daily bar's date), whether ``calendar`` expects a bar that day.

    FX Sunday sessions are short and some vendors omit them, so Sunday is not required.
    """
    day_ns = np.asarray(day_ns, dtype="int64")
    if calendar == "24x7":
        return np.ones(day_ns.shape, dtype=bool)
    if calendar not in CALENDARS:
        raise ValueError(f"unknown calendar {calendar!r}; known: {', '.join(CALENDARS)}")
    weekday = (day_ns // _DAY_NS + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    return weekday <= 4


def unexpected_gaps(calendar: str, ts_ns: np.ndarray, step_ns: int) -> list[tuple[int, int, int]]:
    """Gaps in sorted bar starts ``ts_ns`` that the calendar cannot explain.

    Each gap is (last bar before it, first bar after it, number of missing bars that fall
    in open hours). Bars of a day or longer are judged by trading day, shorter ones by instant.
    """
    ts_ns = np.asarray(ts_ns, dtype="int64")
    if len(ts_ns) < 2:
        return []
    jumps = np.flatnonzero(np.diff(ts_ns) > step_ns)
    gaps: list[tuple[int, int, int]] = []
    for index in jumps:
        before, after = int(ts_ns[index]), int(ts_ns[index + 1])
        missing = np.arange(before + step_ns, after, step_ns, dtype="int64")
        expected = is_trading_day(calendar, missing) if step_ns >= _DAY_NS else is_open(calendar, missing)
        count = int(expected.sum())
        if count:
            gaps.append((before, after, count))
    return gaps
