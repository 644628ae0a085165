"""How a task builds a market-data source from plain endpoints, and how a flow finds the Alpha Vantage key."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from typing import Iterator, Literal

from pydantic import BaseModel, SecretStr

from tradeloom.data.sources.alphavantage import AlphaVantageSource
from tradeloom.data.sources.dukascopy import DukascopySource
from tradeloom.data.sources.transport import fetcher_for
from tradeloom.data.sources.yahoo import YahooSource
from tradeloom.data.sources.yahoo_crumb import YahooCrumb
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
    yahoo_cookie_url: str
    yahoo_crumb_url: str
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


def alphavantage_key(endpoints: SourceEndpoints, configured: SecretStr | None) -> SecretStr | None:
    """The Alpha Vantage key for a flow run: the Prefect Secret block, else ``configured`` (the setting).

    None when the endpoint is a mirror directory (it needs no key and never sees one) or when
    no key is configured anywhere; ``open_source`` then refuses the real service with AuthError.
    """
    if not _is_http(endpoints.alphavantage_url):
        return None
    from prefect.blocks.system import Secret

    try:
        return SecretStr(str(Secret.load(endpoints.alphavantage_key_block).get()))
    except ValueError:  # no such block on this server
        pass
    return configured if configured is not None and configured.get_secret_value() else None


def _is_http(base: str) -> bool:
    return urlsplit(base).scheme in ("http", "https")


def _is_yahoo(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "yahoo.com" or host.endswith(".yahoo.com")


def _wants_crumb(endpoints: SourceEndpoints) -> bool:
    """The cookie/crumb handshake: for Yahoo over HTTP, or a handshake host configured beside a mirror.

    A chart URL pointed at a proxy or mirror with the handshake left on Yahoo's hosts gets no
    handshake: it would fail offline, and Yahoo's session crumb must not be sent to another host.
    """
    if not _is_http(endpoints.yahoo_url):
        return False
    return _is_yahoo(endpoints.yahoo_url) or not (_is_yahoo(endpoints.yahoo_crumb_url)
                                                  or _is_yahoo(endpoints.yahoo_cookie_url))


@contextmanager
def open_source(name: str, endpoints: SourceEndpoints, alphavantage_api_key: SecretStr | None = None,
                accept_empty: bool = False) -> Iterator[DukascopySource | YahooSource | AlphaVantageSource]:
    """The source called ``name`` wired to its endpoint (URL or mirror directory); its connections close with the block.

    ``accept_empty``: Dukascopy takes open-market periods that stay empty as no data instead of raising.
    """
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
    timeout = endpoints.http_timeout_seconds
    if name == "dukascopy":
        base = endpoints.dukascopy_legacy_url if endpoints.dukascopy_api == "legacy" else endpoints.dukascopy_json_url
        with fetcher_for(base, timeout=timeout) as fetcher:
            yield DukascopySource(fetcher, api=endpoints.dukascopy_api, price_side=endpoints.dukascopy_price_side,
                                  max_in_flight=endpoints.dukascopy_max_in_flight, cache_dir=endpoints.cache_dir,
                                  now=utc_now, accept_empty=accept_empty)
    elif name == "yahoo":
        with fetcher_for(endpoints.yahoo_url, timeout=timeout, headers=_BROWSER_HEADERS) as fetcher:
            crumb = YahooCrumb(fetcher, endpoints.yahoo_cookie_url, endpoints.yahoo_crumb_url) if _wants_crumb(endpoints) else None
            yield YahooSource(fetcher, now=utc_now, crumb=crumb)
    else:
        key = _alphavantage_key_for(endpoints, alphavantage_api_key)
        with fetcher_for(endpoints.alphavantage_url, timeout=timeout) as fetcher:
            yield AlphaVantageSource(fetcher, api_key=key, now=utc_now, datatype=endpoints.alphavantage_datatype,
                                     adjusted=endpoints.alphavantage_adjusted)


def _alphavantage_key_for(endpoints: SourceEndpoints, api_key: SecretStr | None) -> str:
    if not _is_http(endpoints.alphavantage_url):
        return MIRROR_KEY  # a mirror directory needs no key (and never sees one)
    if api_key is None:
        raise AuthError(
            f"no Alpha Vantage API key: create the Prefect Secret block {endpoints.alphavantage_key_block!r} "
            "or set TRADELOOM_ALPHAVANTAGE_API_KEY"
        )
    return api_key.get_secret_value()
