"""Where each Dukascopy file lives: the legacy datafeed (zero-based month) and the JSON API (1-based).

Paths are relative to the API's base URL (legacy ``https://datafeed.dukascopy.com/datafeed``,
JSON ``https://jetta.dukascopy.com/v1``) or to a local mirror laid out the same way.

The JSON API serves a completed period at a dated path and the period still running at the
undated path with ``?from=<period start, UTC epoch ms>``, as dukascopy-node does
(``getActivePeriodUrl`` in ``src/url-generator/index.ts``). The legacy datafeed has no
running-period file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from tradeloom.data.ranges import require_utc

Period = Literal["hour", "day", "month", "year"]

# The candle file that holds bars of each base timeframe, and the period one file covers.
CANDLE_FILES: dict[str, tuple[str, Period]] = {
    "1m": ("min", "day"),
    "1h": ("hour", "month"),
    "1d": ("day", "year"),
}
_JETTA_CANDLES = {"1m": "minute", "1h": "hour", "1d": "day"}


def period_start(moment: datetime, period: Period) -> datetime:
    """The start of the ``period`` (UTC calendar hour, day, month or year) containing ``moment``."""
    moment = require_utc(moment, "moment")
    if period == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if period == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if period == "year":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"unknown period {period!r}")


def next_period(moment: datetime, period: Period) -> datetime:
    """The start of the period after the one starting at ``moment``."""
    if period == "hour":
        return moment + timedelta(hours=1)
    if period == "day":
        return moment + timedelta(days=1)
    if period == "month":
        return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
    if period == "year":
        return moment.replace(year=moment.year + 1)
    raise ValueError(f"unknown period {period!r}")


def periods_between(start: datetime, end: datetime, period: Period) -> list[datetime]:
    """Starts of every ``period`` overlapping the half-open UTC range [start, end), in order."""
    start, end = require_utc(start, "start"), require_utc(end, "end")
    out: list[datetime] = []
    cursor = period_start(start, period)
    while cursor < end:
        out.append(cursor)
        cursor = next_period(cursor, period)
    return out


def periods_until(start: datetime, end: datetime, period: Period, now: datetime) -> list[tuple[datetime, bool]]:
    """``(period start, still running at now)`` for every ``period`` of [start, end) begun before ``now``.

    Periods starting at or after ``now`` are left out: they hold nothing yet.
    """
    now = require_utc(now, "now")
    limit = min(require_utc(end, "end"), now)
    if require_utc(start, "start") >= limit:
        return []
    return [(begin, next_period(begin, period) > now) for begin in periods_between(start, limit, period)]


def epoch_ms(moment: datetime) -> int:
    """UTC epoch milliseconds of an aware datetime."""
    return int(require_utc(moment, "moment").timestamp() * 1000)


def legacy_symbol(dukascopy_code: str | None, symbol: str) -> str:
    """The datafeed's directory name: the JSON code without separators (EUR-USD -> EURUSD)."""
    code = dukascopy_code or symbol
    return code.replace("-", "").replace(".", "").replace("/", "").upper()


def legacy_tick_path(symbol: str, hour: datetime) -> str:
    """``{SYM}/{YYYY}/{MM0}/{DD}/{HH}h_ticks.bi5`` for the UTC hour starting at ``hour``."""
    return f"{symbol}/{hour.year:04d}/{hour.month - 1:02d}/{hour.day:02d}/{hour.hour:02d}h_ticks.bi5"


def legacy_candle_path(symbol: str, side: str, base_timeframe: str, start: datetime) -> str:
    """The ``{BID|ASK}_candles_{min|hour|day}_1.bi5`` path of the file starting at ``start``."""
    kind, period = CANDLE_FILES[base_timeframe]
    name = f"{side.upper()}_candles_{kind}_1.bi5"
    if period == "day":
        return f"{symbol}/{start.year:04d}/{start.month - 1:02d}/{start.day:02d}/{name}"
    if period == "month":
        return f"{symbol}/{start.year:04d}/{start.month - 1:02d}/{name}"
    return f"{symbol}/{start.year:04d}/{name}"


def jetta_tick_path(code: str, hour: datetime) -> str:
    """``ticks/{CODE}/{Y}/{M}/{D}/{H}`` (1-based month, not padded) for the UTC hour at ``hour``."""
    return f"ticks/{code}/{hour.year}/{hour.month}/{hour.day}/{hour.hour}"


def jetta_candle_path(code: str, side: str, base_timeframe: str, start: datetime) -> str:
    """``candles/{minute|hour|day}/{CODE}/{SIDE}/...`` for the file starting at ``start``."""
    prefix = f"candles/{_JETTA_CANDLES[base_timeframe]}/{code}/{side.upper()}/{start.year}"
    _, period = CANDLE_FILES[base_timeframe]
    if period == "day":
        return f"{prefix}/{start.month}/{start.day}"
    if period == "month":
        return f"{prefix}/{start.month}"
    return prefix


def jetta_active_tick_path(code: str) -> str:
    """``ticks/{CODE}``: the running hour's ticks, asked for with ``jetta_active_query``."""
    return f"ticks/{code}"


def jetta_active_candle_path(code: str, side: str, base_timeframe: str) -> str:
    """``candles/{minute|hour|day}/{CODE}/{SIDE}``: the running day, month or year, with ``jetta_active_query``."""
    return f"candles/{_JETTA_CANDLES[base_timeframe]}/{code}/{side.upper()}"


def jetta_active_query(period: datetime) -> tuple[tuple[str, str], ...]:
    """The query of a running period's request: ``from`` = the period's start in UTC epoch ms."""
    return (("from", str(epoch_ms(period))),)
