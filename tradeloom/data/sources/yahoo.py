"""Yahoo Finance chart API v8 as a bar source: look-back limits, request splitting, typed errors.

Over HTTP the chart calls carry the crumb of Yahoo's cookie/crumb handshake (``yahoo_crumb``);
a local mirror directory needs none.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Callable
from urllib.parse import urlencode

import pandas as pd

from tradeloom.data.frames import Batch, RawPayload, actions_frame, bars_frame
from tradeloom.data.instruments import instrument
from tradeloom.data.ranges import require_utc_range
from tradeloom.data.sources.transport import Fetcher, redact
from tradeloom.data.sources.yahoo_crumb import YahooCrumb
from tradeloom.data.sources.yahoo_parse import envelope_error, envelope_in, parse_chart
from tradeloom.errors import AuthError, RateLimitedError, RejectedError, TradeloomError

# tradeloom timeframe -> Yahoo interval.
INTERVALS: dict[str, str] = {
    "1m": "1m", "2m": "2m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "60m",
    "1d": "1d", "1wk": "1wk", "1mo": "1mo",
}
# How far back Yahoo keeps intraday bars (SPECS.md §2.4); coarser intervals have full history.
LOOKBACK: dict[str, timedelta] = {
    "1m": timedelta(days=30),
    **{tf: timedelta(days=60) for tf in ("2m", "5m", "15m", "30m")},
    "1h": timedelta(days=730),
}
# The longest range one request may span ("Only 8 days worth of 1m granularity data ...").
PER_REQUEST: dict[str, timedelta] = {**LOOKBACK, "1m": timedelta(days=8)}

_RAW_TICKER = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9.^=\-]{0,31}$")


class YahooSource:
    """Bars from ``v8/finance/chart/{symbol}`` for half-open UTC ranges ``[start, end)``."""

    name = "yahoo"

    def __init__(self, fetcher: Fetcher, now: Callable[[], datetime], crumb: YahooCrumb | None = None) -> None:
        self._fetcher = fetcher
        self._now = now
        self._crumb = crumb

    def __repr__(self) -> str:
        return f"YahooSource(fetcher={type(self._fetcher).__name__})"

    def supports(self, symbol: str, timeframe: str) -> bool:
        """True when Yahoo can serve ``symbol`` at ``timeframe`` (look-back limits aside)."""
        if timeframe not in INTERVALS:
            return False
        try:
            yahoo_symbol(symbol)
        except ValueError:
            return False
        return True

    def check_request(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> None:
        """Raise before any call if the request is malformed or reaches beyond Yahoo's look-back limit."""
        yahoo_symbol(symbol)
        if timeframe not in INTERVALS:
            raise ValueError(f"Yahoo has no timeframe {timeframe!r}; supported: {', '.join(INTERVALS)}")
        require_utc_range(start, end)
        limit = LOOKBACK.get(timeframe)
        if limit is None:
            return
        now = self._now()
        if now.tzinfo is None:
            raise ValueError(f"the injected clock returned a naive datetime {now!r}; it must be tz-aware")
        earliest = now - limit
        if start < earliest:
            raise RejectedError(
                f"Yahoo keeps {timeframe} bars for the last {limit.days} days only: {symbol} {timeframe} from "
                f"{start.isoformat()} starts before {earliest.isoformat()} (now {now.isoformat()}); "
                f"request a later start or a coarser timeframe"
            )

    def fetch_bars(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> Batch:
        """Bars of ``symbol`` in ``[start, end)``, with splits and dividends; several calls if the range is long."""
        self.check_request(symbol, timeframe, start, end)
        ticker = yahoo_symbol(symbol)
        name = _batch_symbol(symbol)
        path = f"v8/finance/chart/{ticker}"
        bars: list[pd.DataFrame] = []
        actions: list[pd.DataFrame] = []
        raw: list[RawPayload] = []
        for chunk_start, chunk_end in request_windows(timeframe, start, end):
            params = {
                "period1": str(math.floor(chunk_start.timestamp())),
                "period2": str(math.ceil(chunk_end.timestamp())),
                "interval": INTERVALS[timeframe],
                "includePrePost": "false",
                "events": "div,splits",
            }
            where = f"{path}?{urlencode(redact(params))}"
            try:
                body = self._get(path, params)
            except TradeloomError as exc:
                explained = _explained(exc, where)
                if explained is exc:
                    raise
                raise explained from exc
            raw.append(RawPayload(where, body))
            chart = parse_chart(body, symbol=name, timeframe=timeframe, period2=int(params["period2"]), where=where)
            bars.append(chart.bars)
            actions.append(chart.actions)
        return Batch(
            source=self.name,
            symbol=name,
            timeframe=timeframe,
            frame=_within(bars, start, end, bars_frame, ["ts"]),
            raw=tuple(raw),
            actions=_within(actions, start, end, actions_frame, ["ts", "kind"]),
        )


    def _get(self, path: str, params: dict[str, str]) -> bytes:
        """One chart call, with the session's crumb when there is a handshake; a 401 renews it once."""
        if self._crumb is None:
            return self._fetcher.get(path, params)
        try:
            return self._fetcher.get(path, {**params, "crumb": self._crumb.current()})
        except AuthError as exc:
            if getattr(exc, "status", None) != 401:  # a stale or invalid crumb; a 403 is not one
                raise
        return self._fetcher.get(path, {**params, "crumb": self._crumb.renew()})


def yahoo_symbol(symbol: str) -> str:
    """Yahoo's ticker for ``symbol``; an unknown but well-formed ticker passes through as-is."""
    try:
        known = instrument(symbol).yahoo_symbol
    except ValueError:
        if _RAW_TICKER.match(symbol):
            return symbol
        raise ValueError(f"{symbol!r} is neither a known instrument nor a Yahoo ticker") from None
    if known is None:
        raise ValueError(f"instrument {symbol!r} has no Yahoo symbol")
    return known


def _batch_symbol(symbol: str) -> str:
    try:
        return instrument(symbol).symbol
    except ValueError:
        return symbol


def request_windows(timeframe: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive windows no longer than one request may span."""
    step = PER_REQUEST.get(timeframe)
    if step is None:
        return [(start, end)]
    windows = []
    cursor = start
    while cursor < end:
        windows.append((cursor, min(cursor + step, end)))
        cursor += step
    return windows


def _within(
    frames: list[pd.DataFrame],
    start: datetime,
    end: datetime,
    conform: Callable[..., pd.DataFrame],
    keys: list[str],
) -> pd.DataFrame:
    frame = pd.concat(frames, ignore_index=True) if frames else conform()
    if frame.empty:
        return conform()
    lo, hi = pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")
    frame = frame[(frame["ts"] >= lo) & (frame["ts"] < hi)]
    return conform(frame.sort_values(keys, kind="stable").drop_duplicates(keys, keep="last"))


def _explained(exc: TradeloomError, where: str) -> TradeloomError:
    """The transport's error restated with what Yahoo said (its chart.error or its plain-text 429)."""
    body: bytes = getattr(exc, "body", b"") or b""
    status = getattr(exc, "status", None)
    if status == 429 or b"Too Many Requests" in body:
        said = body[:100].decode("utf-8", "replace").strip() or "HTTP 429"
        error: TradeloomError = RateLimitedError(
            f"Yahoo rate-limited {where} ({said}); it blocks by IP, so back off for several minutes",
            retry_after=getattr(exc, "retry_after", None),
        )
    else:
        envelope = envelope_in(body)
        if envelope is None:
            return exc
        error = envelope_error(envelope[0], envelope[1], where)
    error.status = status  # type: ignore[attr-defined]
    error.body = body  # type: ignore[attr-defined]
    return error
