"""Market-data settings: vendor endpoints, what to ingest, source priority, limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradeloom.data.priority import DEFAULT_ORDER

DEFAULT_PLAN: dict[str, dict[str, list[str]]] = {
    "dukascopy": {"EURUSD": ["tick", "1m", "1h"]},
    "yahoo": {"AAPL": ["1d"], "EURUSD": ["1d"]},
    "alphavantage": {"IBM": ["1d"]},
}


class MarketDataSettings(BaseSettings):
    """Where each vendor is reached and what the scheduled ingestions fetch."""

    model_config = SettingsConfigDict(env_prefix="TRADELOOM_", env_file=".env", extra="ignore")

    dukascopy_api: Literal["legacy", "json"] = Field("json", description="Dukascopy API: the legacy .bi5 datafeed or the JSON API.")
    dukascopy_legacy_url: str = Field("https://datafeed.dukascopy.com/datafeed", description="Legacy datafeed base URL or mirror directory.")
    dukascopy_json_url: str = Field("https://jetta.dukascopy.com/v1", description="JSON API base URL or mirror directory.")
    dukascopy_price_side: Literal["bid", "ask", "mid"] = Field("bid", description="Side ticks are aggregated from.")
    dukascopy_max_in_flight: int = Field(10, ge=1, le=50, description="Dukascopy files fetched at once over HTTP (a mirror directory: at most one per core).")
    dukascopy_tick_unit_days: int = Field(
        7, ge=1, le=31,
        description="UTC days of ticks per unit of work (one fetch and one store write each); a backfill of a "
                    "week writes once instead of seven times.",
    )
    yahoo_url: str = Field("https://query2.finance.yahoo.com", description="Yahoo chart API base URL or mirror directory.")
    yahoo_cookie_url: str = Field("https://fc.yahoo.com", description="Where Yahoo's handshake gets its A3 cookie (HTTP base URLs only).")
    yahoo_crumb_url: str = Field("https://query1.finance.yahoo.com", description="Base URL of Yahoo's /v1/test/getcrumb.")
    alphavantage_url: str = Field("https://www.alphavantage.co", description="Alpha Vantage base URL or mirror directory.")
    alphavantage_api_key: SecretStr | None = Field(None, description="Alpha Vantage key when no Secret block holds it.")
    alphavantage_key_block: str = Field("alphavantage-api-key", description="Prefect Secret block holding the Alpha Vantage key.")
    alphavantage_datatype: Literal["json", "csv"] = Field("json", description="Alpha Vantage response format.")
    alphavantage_adjusted: bool = Field(False, description="Daily equities from TIME_SERIES_DAILY_ADJUSTED (a premium endpoint).")
    alphavantage_calls_per_day: int = Field(25, ge=1, description="Alpha Vantage daily call quota (free tier: 25).")
    http_timeout_seconds: float = Field(30.0, gt=0, description="Timeout of one vendor request.")
    ingest_plan: dict[str, dict[str, list[str]]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_PLAN.items()},
        description='JSON: source -> symbol -> timeframes ("tick", "1m", ... "1d") the scheduled runs ingest.',
    )
    source_priority: dict[str, list[str]] = Field(
        default_factory=lambda: {"*": list(DEFAULT_ORDER)},
        description='JSON: "SYMBOL:timeframe" (or "*") -> sources to try in order.',
    )
    initial_lookback_days: int = Field(3, ge=1, description="Where a scheduled run starts when no watermark exists yet.")
    store_lock_timeout_seconds: float = Field(60.0, gt=0, description="How long a writer waits for the DuckDB file lock.")
