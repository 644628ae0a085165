"""Decoding Yahoo Finance chart v8 JSON into the bar and corporate-action schemas (see SPECS.md §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from tradeloom.data.frames import actions_frame, bars_frame
from tradeloom.errors import (
    AuthError,
    CorruptPayloadError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TradeloomError,
    TransientError,
)

SOURCE = "yahoo"
# Bars of these timeframes are dated by the exchange's trading date, not by their UTC start.
DATED_TIMEFRAMES = frozenset({"1d", "1wk", "1mo"})
_PRICE_FIELDS = ("open", "high", "low", "close")

# Yahoo's chart.error "code" is the HTTP reason phrase of the status it would have sent.
_ERROR_BY_CODE: dict[str, type[TradeloomError]] = {
    "not found": NotFoundError,
    "unauthorized": AuthError,
    "forbidden": AuthError,
    "too many requests": RateLimitedError,
    "internal server error": TransientError,
    "bad gateway": TransientError,
    "service unavailable": TransientError,
    "gateway timeout": TransientError,
}


@dataclass(frozen=True)
class Chart:
    """One decoded chart response: bars in the bar schema and events in the action schema."""

    bars: pd.DataFrame
    actions: pd.DataFrame


def envelope_error(code: str, description: str, where: str) -> TradeloomError:
    """The typed error for Yahoo's ``{"chart": {"error": {code, description}}}`` envelope."""
    kind = _ERROR_BY_CODE.get(code.strip().lower(), RejectedError)
    message = f"Yahoo refused {where}: {description or code} ({code})"
    if kind is RateLimitedError:
        return RateLimitedError(message)
    return kind(message)


def envelope_in(body: bytes) -> tuple[str, str] | None:
    """(code, description) of an error envelope in ``body``, or None if it holds none."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    for value in document.values():  # "chart", or "quoteSummary" for other Yahoo endpoints
        error = value.get("error") if isinstance(value, dict) else None
        if isinstance(error, dict):
            return str(error.get("code") or ""), str(error.get("description") or "")
    return None


def decode_document(body: bytes, where: str) -> dict[str, Any]:
    """The JSON object in ``body``; TransientError when empty, CorruptPayloadError when not JSON."""
    if not body.strip():
        raise TransientError(f"empty body from {where} where chart JSON was expected")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        excerpt = body[:80].decode("utf-8", "replace")
        raise CorruptPayloadError(f"body from {where} is not JSON ({exc}): {excerpt!r}", payload=body) from None
    if not isinstance(document, dict) or not isinstance(document.get("chart"), dict):
        raise CorruptPayloadError(f"body from {where} has no 'chart' object", payload=body)
    return document


def parse_chart(body: bytes, *, symbol: str, timeframe: str, period2: int | None, where: str) -> Chart:
    """Bars and events of one chart response; bars at or after ``period2`` (epoch s) are dropped."""
    chart = decode_document(body, where)["chart"]
    error = chart.get("error")
    if error:
        if not isinstance(error, dict):
            raise CorruptPayloadError(f"chart.error from {where} is not an object: {error!r}", payload=body)
        raise envelope_error(str(error.get("code") or ""), str(error.get("description") or ""), where)
    results = chart.get("result")
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        raise CorruptPayloadError(f"chart from {where} has neither a result nor an error", payload=body)
    result = results[0]
    meta = result.get("meta") or {}
    zone = _exchange_zone(meta, where, body)
    if "timestamp" not in result:  # Yahoo's "no data" shape: meta only, quote == [{}]
        return Chart(bars_frame(), actions_frame())
    bars = _bars(result, symbol=symbol, timeframe=timeframe, period2=period2, zone=zone, where=where, body=body)
    return Chart(bars, _actions(result.get("events") or {}, symbol=symbol, zone=zone))


def _exchange_zone(meta: dict[str, Any], where: str, body: bytes) -> ZoneInfo:
    name = meta.get("exchangeTimezoneName") or "UTC"
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise CorruptPayloadError(f"unknown exchangeTimezoneName {name!r} in chart from {where}", payload=body) from None


def _column(values: Any, length: int, name: str, where: str, body: bytes) -> np.ndarray:
    if values is None:
        return np.full(length, np.nan)
    if not isinstance(values, list) or len(values) != length:
        raise CorruptPayloadError(
            f"chart from {where}: '{name}' has {len(values) if isinstance(values, list) else 'no'} values "
            f"for {length} timestamps",
            payload=body,
        )
    return np.array(values, dtype="float64")  # JSON null becomes NaN


def _bars(
    result: dict[str, Any], *, symbol: str, timeframe: str, period2: int | None, zone: ZoneInfo, where: str, body: bytes
) -> pd.DataFrame:
    stamps = np.asarray(result["timestamp"] or [], dtype="int64")
    indicators = result.get("indicators") or {}
    quote = (indicators.get("quote") or [{}])[0] or {}
    adjclose = ((indicators.get("adjclose") or [{}])[0] or {}).get("adjclose")
    n = len(stamps)
    columns = {name: _column(quote.get(name), n, name, where, body) for name in (*_PRICE_FIELDS, "volume")}
    columns["adj_close"] = _column(adjclose, n, "adjclose", where, body)
    prices = np.column_stack([columns[name] for name in _PRICE_FIELDS]) if n else np.empty((0, 4))
    keep = ~np.isnan(prices).all(axis=1)  # a missing bar is null in every field
    if period2 is not None:
        keep &= stamps < period2  # Yahoo appends the live price even after period2
    ts = pd.to_datetime(stamps[keep], unit="s", utc=True)
    if timeframe in DATED_TIMEFRAMES:
        ts = trading_dates(ts, zone)
    volume = columns["volume"][keep]
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "timeframe": timeframe,
            "ts": ts,
            **{name: columns[name][keep] for name in (*_PRICE_FIELDS, "adj_close")},
            "volume": np.where(np.isnan(volume), 0.0, volume),
            "source": SOURCE,
        }
    )
    return bars_frame(frame.sort_values("ts", kind="stable").drop_duplicates("ts", keep="last"))


def trading_dates(ts: pd.DatetimeIndex, zone: ZoneInfo) -> pd.DatetimeIndex:
    """Midnight UTC of each instant's calendar date in ``zone`` (the exchange's trading date)."""
    return ts.tz_convert(zone).tz_localize(None).normalize().tz_localize("UTC")


def split_description(numerator: float, denominator: float) -> str:
    """A split ratio as Yahoo writes it, e.g. ``4:1`` or ``3:2``."""
    ratio = Fraction(numerator).limit_denominator(10_000) / Fraction(denominator).limit_denominator(10_000)
    return f"{ratio.numerator}:{ratio.denominator}"


def _event_ts(key: str, event: dict[str, Any], zone: ZoneInfo) -> pd.Timestamp:
    # The "date" field is the event's instant; in monthly charts the key is the month's start instead.
    stamp = int(event.get("date") or key)
    return trading_dates(pd.to_datetime([stamp], unit="s", utc=True), zone)[0]


def _actions(events: dict[str, Any], *, symbol: str, zone: ZoneInfo) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for key, event in (events.get("splits") or {}).items():
        numerator, denominator = float(event["numerator"]), float(event["denominator"])
        if numerator <= 0 or denominator <= 0:
            continue
        rows.append({"ts": _event_ts(key, event, zone), "kind": "split", "value": numerator / denominator,
                     "description": split_description(numerator, denominator)})
    for key, event in (events.get("dividends") or {}).items():
        rows.append({"ts": _event_ts(key, event, zone), "kind": "dividend", "value": float(event["amount"]),
                     "description": ""})
    if not rows:
        return actions_frame()
    frame = pd.DataFrame(rows).assign(symbol=symbol, source=SOURCE).sort_values(["ts", "kind"], kind="stable")
    return actions_frame(frame)
