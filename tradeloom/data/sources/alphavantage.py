"""Alpha Vantage as a bar source: stock, FX and crypto series, JSON or CSV, with the key kept secret."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Literal
from urllib.parse import urlencode

import pandas as pd

from tradeloom.data.frames import Batch, RawPayload, actions_frame, bars_frame
from tradeloom.data.instruments import MarketInstrument, instrument
from tradeloom.data.ranges import require_utc_range
from tradeloom.data.sources.alphavantage_parse import Shape, parse_csv, parse_json, scrub
from tradeloom.data.sources.transport import Fetcher
from tradeloom.data.timeframes import timeframe_ns
from tradeloom.errors import CorruptPayloadError, RateLimitedError, TradeloomError

# tradeloom timeframe -> Alpha Vantage intraday interval.
INTRADAY: dict[str, str] = {"1m": "1min", "5m": "5min", "15m": "15min", "30m": "30min", "1h": "60min"}
COMPACT_POINTS = 100  # outputsize=compact returns the latest 100 points
_EQUITY_ZONE = "US/Eastern"


class AlphaVantageSource:
    """Bars from ``query?function=...`` for half-open UTC ranges ``[start, end)``."""

    name = "alphavantage"

    def __init__(
        self,
        fetcher: Fetcher,
        api_key: str,
        now: Callable[[], datetime],
        datatype: Literal["json", "csv"] = "json",
        adjusted: bool = False,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("an Alpha Vantage API key is required (it was empty)")
        if datatype not in ("json", "csv"):
            raise ValueError(f"datatype must be 'json' or 'csv', not {datatype!r}")
        self._fetcher = fetcher
        self._api_key = api_key
        self._now = now
        self.datatype = datatype
        self.adjusted = adjusted

    def __repr__(self) -> str:
        return f"AlphaVantageSource(datatype={self.datatype!r}, adjusted={self.adjusted}, api_key='***')"

    def supports(self, symbol: str, timeframe: str) -> bool:
        """True when Alpha Vantage has a series for ``symbol`` at ``timeframe``."""
        try:
            return _function(instrument(symbol), timeframe, self.adjusted) is not None
        except ValueError:
            return False

    def query(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> dict[str, str]:
        """The query parameters for a request, without the API key; ValueError if not servable."""
        require_utc_range(start, end)
        market = instrument(symbol)
        function = _function(market, timeframe, self.adjusted)
        if function is None:
            raise ValueError(f"Alpha Vantage has no {timeframe} series for {market.symbol} ({market.asset_class})")
        params: dict[str, str] = {"function": function}
        if market.asset_class == "fx":
            params |= {"from_symbol": str(market.base), "to_symbol": str(market.quote)}
        elif market.asset_class == "crypto":
            params |= {"symbol": str(market.base), "market": str(market.quote)}
        else:
            params["symbol"] = market.symbol
        if timeframe in INTRADAY:
            params["interval"] = INTRADAY[timeframe]
        if market.asset_class == "equity" and timeframe in INTRADAY:
            params["extended_hours"] = "false"  # regular session, as the Yahoo source asks for
        if function != "DIGITAL_CURRENCY_DAILY":
            params["outputsize"] = self.output_size(timeframe, start)
        params["datatype"] = self.datatype
        return params

    def output_size(self, timeframe: str, start: datetime) -> str:
        """``compact`` when at most 100 bar slots lie between ``start`` and now, else ``full``."""
        now = pd.Timestamp(self._now())
        first = pd.Timestamp(start)
        if timeframe == "1d":
            slots = (now.tz_convert("UTC").normalize() - first.tz_convert("UTC").normalize()).days + 1
        else:
            slots = int((now - first).value // timeframe_ns(timeframe)) + 1
        return "compact" if slots <= COMPACT_POINTS else "full"

    def fetch_bars(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> Batch:
        """Bars of ``symbol`` in ``[start, end)``, ascending; DAILY_ADJUSTED also yields dividends and splits."""
        params = self.query(symbol, timeframe, start, end)
        market = instrument(symbol)
        where = "query?" + urlencode(params)  # params hold no secret: the key is added below
        secrets = (self._api_key,)
        try:
            body = self._fetcher.get("query", {**params, "apikey": self._api_key})
        except TradeloomError as exc:
            cleaned = _scrubbed(exc, secrets)
            if cleaned is exc:
                raise
            raise cleaned from None
        shape = Shape(
            symbol=market.symbol,
            timeframe=timeframe,
            default_zone=_EQUITY_ZONE if market.asset_class == "equity" else "UTC",
            market=market.quote if market.asset_class == "crypto" else None,
            with_actions=params["function"] == "TIME_SERIES_DAILY_ADJUSTED",
        )
        parse = parse_csv if self.datatype == "csv" else parse_json
        series = parse(body, shape, where, secrets)
        lo, hi = pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")
        bars, actions = series.bars, series.actions
        return Batch(
            source=self.name,
            symbol=market.symbol,
            timeframe=timeframe,
            frame=bars_frame(bars[(bars["ts"] >= lo) & (bars["ts"] < hi)]),
            raw=(RawPayload(where, body),),
            actions=actions_frame(actions[(actions["ts"] >= lo) & (actions["ts"] < hi)]),
        )


def _function(market: MarketInstrument, timeframe: str, adjusted: bool) -> str | None:
    """The Alpha Vantage function serving ``market`` at ``timeframe``, or None."""
    daily = timeframe == "1d"
    if not daily and timeframe not in INTRADAY:
        return None
    if market.asset_class == "equity" and market.quote == "USD":
        if daily:
            return "TIME_SERIES_DAILY_ADJUSTED" if adjusted else "TIME_SERIES_DAILY"
        return "TIME_SERIES_INTRADAY"
    if market.asset_class == "fx":
        return "FX_DAILY" if daily else "FX_INTRADAY"
    if market.asset_class == "crypto" and daily:
        return "DIGITAL_CURRENCY_DAILY"
    return None


def _scrubbed(exc: TradeloomError, secrets: tuple[str, ...]) -> TradeloomError:
    """``exc`` again, with its message free of secrets (a vendor body may echo the key)."""
    message = str(exc)
    if not any(s and s in message for s in secrets):
        return exc
    text = scrub(message, secrets)
    if isinstance(exc, RateLimitedError):
        clean: TradeloomError = RateLimitedError(text, retry_after=exc.retry_after)
    elif isinstance(exc, CorruptPayloadError):
        clean = CorruptPayloadError(text, payload=exc.payload)
    else:
        clean = type(exc)(text)
    clean.status = getattr(exc, "status", None)  # type: ignore[attr-defined]
    return clean

