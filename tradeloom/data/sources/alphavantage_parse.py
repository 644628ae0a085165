"""Decoding Alpha Vantage time series (JSON and CSV) into the bar and action schemas (see SPECS.md §3).

Alpha Vantage answers failures with HTTP 200 and a JSON notice, so notices are detected
before any series is looked for.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from tradeloom.data.frames import actions_frame, bars_frame
from tradeloom.data.sources.yahoo_parse import split_description
from tradeloom.errors import AuthError, CorruptPayloadError, RateLimitedError, RejectedError, TransientError

SOURCE = "alphavantage"
_PREFIX = re.compile(r"^\d+[a-z]?\.\s*")  # "1. open", "1b. open (USD)"


@dataclass(frozen=True)
class Series:
    """One decoded response: bars in the bar schema and, for adjusted series, its corporate actions."""

    bars: pd.DataFrame
    actions: pd.DataFrame


@dataclass(frozen=True)
class Shape:
    """What the caller asked for, needed to read the answer: names, bar length and fallbacks."""

    symbol: str
    timeframe: str
    default_zone: str  # used when the payload names none (CSV has no Meta Data)
    market: str | None = None  # DIGITAL_CURRENCY_DAILY: the currency prices are quoted in
    with_actions: bool = False


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret replaced by ``***`` (Alpha Vantage echoes the key in some notices)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def notice_error(document: dict[str, Any], where: str, secrets: tuple[str, ...] = ()) -> Exception | None:
    """The typed error for an ``Error Message`` / ``Information`` / ``Note`` body, or None for data."""
    if "Error Message" in document:
        text = scrub(str(document["Error Message"]), secrets)
        lowered = text.lower()
        if "apikey" in lowered and ("invalid" in lowered or "missing" in lowered):
            return AuthError(f"Alpha Vantage refused the API key for {where}: {text}")
        return RejectedError(f"Alpha Vantage rejected {where}: {text}")
    for key in ("Information", "Note"):
        if key in document:
            text = scrub(str(document[key]), secrets)
            lowered = text.lower()
            # Every notice links the premium plans, so "premium" alone decides nothing: a premium
            # *endpoint*, the demo key and a spent daily quota are permanent (for today); the
            # per-second burst and the legacy per-minute notices are worth retrying later.
            if "premium endpoint" in lowered or "demo" in lowered:
                return RejectedError(f"Alpha Vantage will not serve {where} with this key: {text}")
            if "per day" in lowered and "per minute" not in lowered and "per second" not in lowered:
                return RejectedError(f"Alpha Vantage daily quota is spent; {where} must wait until tomorrow: {text}")
            retry_after = 1.0 if "per second" in lowered else None
            return RateLimitedError(f"Alpha Vantage rate limit hit for {where}: {text}", retry_after=retry_after)
    return None


def parse_json(body: bytes, shape: Shape, where: str, secrets: tuple[str, ...] = ()) -> Series:
    """Bars (and actions) of one JSON response, ascending, all in UTC."""
    document = _decode(body, where, secrets)
    error = notice_error(document, where, secrets)
    if error is not None:
        raise error
    series_key = next((k for k in document if k.startswith("Time Series")), None)
    if series_key is None or not isinstance(document[series_key], dict):
        raise CorruptPayloadError(f"no time series in the answer to {where}; keys: {sorted(document)}", payload=body)
    meta = document.get("Meta Data") or {}
    zone_name = next((str(v) for k, v in meta.items() if k.endswith("Time Zone")), shape.default_zone)
    market = next((str(v) for k, v in meta.items() if k.endswith("Market Code")), shape.market)
    rows = document[series_key]
    stamps = list(rows)
    fields: dict[str, list[Any]] = {}
    for i, stamp in enumerate(stamps):
        values = rows[stamp]
        if not isinstance(values, dict):
            raise CorruptPayloadError(f"row {stamp!r} in the answer to {where} is not an object", payload=body)
        for name, value in values.items():
            fields.setdefault(_field(name), [None] * len(stamps))[i] = value
    return _series(stamps, fields, shape, zone_name, market, where, body)


def parse_csv(body: bytes, shape: Shape, where: str, secrets: tuple[str, ...] = ()) -> Series:
    """Bars (and actions) of one ``datatype=csv`` response; its notices still arrive as JSON."""
    if body.lstrip().startswith(b"{"):
        return parse_json(body, shape, where, secrets)
    if not body.strip():
        raise TransientError(f"empty body from {where} where CSV was expected")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorruptPayloadError(f"CSV from {where} is not UTF-8", payload=body) from None
    reader = csv.reader(io.StringIO(text))
    header = [_field(h) for h in next(reader)]
    if not header or header[0] not in ("timestamp", "time"):
        raise CorruptPayloadError(f"CSV from {where} does not start with a timestamp column: {header[:6]}",
                                  payload=body)
    records = [r for r in reader if r]
    if any(len(r) != len(header) for r in records):
        raise CorruptPayloadError(f"CSV from {where} has rows of another width than its header", payload=body)
    columns = list(zip(*records)) if records else [()] * len(header)
    fields = {name: list(values) for name, values in zip(header[1:], columns[1:])}
    return _series(list(columns[0]), fields, shape, shape.default_zone, shape.market, where, body)


def _decode(body: bytes, where: str, secrets: tuple[str, ...]) -> dict[str, Any]:
    if not body.strip():
        raise TransientError(f"empty body from {where} where JSON was expected")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        excerpt = scrub(body[:80].decode("utf-8", "replace"), secrets)
        raise CorruptPayloadError(f"body from {where} is not JSON ({exc}): {excerpt!r}", payload=body) from None
    if not isinstance(document, dict):
        raise CorruptPayloadError(f"body from {where} is not a JSON object", payload=body)
    return document


def _field(name: str) -> str:
    """A field name as both formats agree on: "5. adjusted close" and "adjusted_close" -> "adjusted close"."""
    return _PREFIX.sub("", name.strip()).replace("_", " ").lower()


def _pick(fields: dict[str, list[Any]], name: str, market: str | None) -> list[Any] | None:
    # The legacy crypto format prices each field twice, "open (CNY)" and "open (USD)": take the market's.
    if market and f"{name} ({market.lower()})" in fields:
        return fields[f"{name} ({market.lower()})"]
    return fields.get(name)


def _numbers(values: list[Any] | None, n: int, name: str, where: str, body: bytes) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    try:
        return pd.to_numeric(pd.Series(values, dtype="object"), errors="raise").to_numpy(dtype="float64")
    except (ValueError, TypeError) as exc:
        raise CorruptPayloadError(f"'{name}' in the answer to {where} is not numeric: {exc}", payload=body) from None


def _timestamps(stamps: list[str], shape: Shape, zone_name: str, where: str, body: bytes) -> pd.DatetimeIndex:
    try:
        if shape.timeframe == "1d":
            return pd.DatetimeIndex(pd.to_datetime([s[:10] for s in stamps], format="%Y-%m-%d")).tz_localize("UTC")
        local = pd.DatetimeIndex(pd.to_datetime(stamps, format="%Y-%m-%d %H:%M:%S"))
        return local.tz_localize(ZoneInfo(zone_name), ambiguous="raise", nonexistent="raise").tz_convert("UTC")
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise CorruptPayloadError(f"bad timestamps in the answer to {where} ({zone_name}): {exc}", payload=body) from None


def _series(stamps: list[str], fields: dict[str, list[Any]], shape: Shape, zone_name: str, market: str | None,
            where: str, body: bytes) -> Series:
    n = len(stamps)
    if n == 0:
        return Series(bars_frame(), actions_frame())
    missing = [name for name in ("open", "high", "low", "close") if _pick(fields, name, market) is None]
    if missing:
        raise CorruptPayloadError(f"the answer to {where} lacks {missing}; fields: {sorted(fields)}", payload=body)
    ts = _timestamps(stamps, shape, zone_name, where, body)
    column = {name: _numbers(_pick(fields, name, market), n, name, where, body)
              for name in ("open", "high", "low", "close", "volume", "adjusted close")}
    frame = pd.DataFrame({
        "symbol": shape.symbol,
        "timeframe": shape.timeframe,
        "ts": ts,
        **{name: column[name] for name in ("open", "high", "low", "close")},
        "volume": np.nan_to_num(column["volume"], nan=0.0),  # FX series carry no volume
        "adj_close": column["adjusted close"],
        "source": SOURCE,
    }).sort_values("ts", kind="stable")
    if frame["ts"].duplicated().any():
        raise CorruptPayloadError(f"the answer to {where} repeats timestamps", payload=body)
    actions = actions_frame()
    if shape.with_actions:
        dividends = _numbers(fields.get("dividend amount"), n, "dividend amount", where, body)
        splits = _numbers(fields.get("split coefficient"), n, "split coefficient", where, body)
        actions = _actions(ts, dividends, splits, shape.symbol)
    return Series(bars_frame(frame), actions)


def _actions(ts: pd.DatetimeIndex, dividends: np.ndarray, splits: np.ndarray, symbol: str) -> pd.DataFrame:
    rows = []
    for when, amount, coefficient in zip(ts, dividends, splits):
        if coefficient > 0 and coefficient != 1.0:
            rows.append({"ts": when, "kind": "split", "value": float(coefficient),
                         "description": split_description(float(coefficient), 1.0)})
        if amount > 0:
            rows.append({"ts": when, "kind": "dividend", "value": float(amount), "description": ""})
    if not rows:
        return actions_frame()
    frame = pd.DataFrame(rows).assign(symbol=symbol, source=SOURCE).sort_values(["ts", "kind"], kind="stable")
    return actions_frame(frame)
