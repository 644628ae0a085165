"""How a task builds a market-data source from plain endpoints, and finds the Alpha Vantage key."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from tradeloom.data.sources.alphavantage import AlphaVantageSource
from tradeloom.data.sources.dukascopy import DukascopySource
from tradeloom.data.sources.transport import DirectoryFetcher, fetcher_for
from tradeloom.data.sources.yahoo import YahooSource
from tradeloom.errors import AuthError
from tradeloom.settings.market import MarketDataSettings

SOURCES = ("dukascopy", "yahoo", "alphavantage")
MIRROR_KEY = "mirror"  # placeholder key for a local mirror directory, which ignores keys
_BROWSER_HEADERS = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130 Safari/537.36"}


class SourceEndpoints(BaseModel):
    """Everything a task needs to reach the vendors; secrets are never part of it."""

    dukascopy_api: Literal["legacy", "json"]
    dukascopy_legacy_url: str
    dukascopy_json_url: str
    dukascopy_price_side: Literal["bid", "ask", "mid"]
    dukascopy_max_in_flight: int
    yahoo_url: str
    alphavantage_url: str
    alphavantage_key_block: str
    alphavantage_datatype: Literal["json", "csv"]
    alphavantage_adjusted: bool
    http_timeout_seconds: float
    cache_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: MarketDataSettings, home: Path, **overrides: object) -> "SourceEndpoints":
        """Endpoints from ``settings``, with non-None ``overrides`` (CLI/flow parameters) on top."""
        values = settings.model_dump(include=set(cls.model_fields) - {"cache_dir"})
        values["cache_dir"] = home / "cache" / "dukascopy"
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def utc_now() -> datetime:
    """The wall clock, in UTC: sources take it injected."""
    return datetime.now(timezone.utc)


def alphavantage_key(block_name: str) -> str:
    """The Alpha Vantage key from the Prefect Secret block ``block_name``, else the environment."""
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(block_name).get())
    except ValueError:  # no such block on this server
        pass
    key = MarketDataSettings().alphavantage_api_key
    if key is None or not key.get_secret_value():
        raise AuthError(
            f"no Alpha Vantage API key: create the Prefect Secret block {block_name!r} "
            "or set TRADELOOM_ALPHAVANTAGE_API_KEY"
        )
    return key.get_secret_value()


def build_source(name: str, endpoints: SourceEndpoints) -> DukascopySource | YahooSource | AlphaVantageSource:
    """The source called ``name`` wired to its endpoint (URL or mirror directory)."""
    timeout = endpoints.http_timeout_seconds
    if name == "dukascopy":
        base = endpoints.dukascopy_legacy_url if endpoints.dukascopy_api == "legacy" else endpoints.dukascopy_json_url
        return DukascopySource(
            fetcher_for(base, timeout=timeout),
            api=endpoints.dukascopy_api,
            price_side=endpoints.dukascopy_price_side,
            max_in_flight=endpoints.dukascopy_max_in_flight,
            cache_dir=endpoints.cache_dir,
        )
    if name == "yahoo":
        return YahooSource(fetcher_for(endpoints.yahoo_url, timeout=timeout, headers=_BROWSER_HEADERS), now=utc_now)
    if name == "alphavantage":
        fetcher = fetcher_for(endpoints.alphavantage_url, timeout=timeout)
        # A mirror directory needs no key (and never sees one); the real service always does.
        key = MIRROR_KEY if isinstance(fetcher, DirectoryFetcher) else alphavantage_key(endpoints.alphavantage_key_block)
        return AlphaVantageSource(
            fetcher,
            api_key=key,
            now=utc_now,
            datatype=endpoints.alphavantage_datatype,
            adjusted=endpoints.alphavantage_adjusted,
        )
    raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
