"""AlphaVantageSource: function choice, outputsize, range cut, key secrecy; over loopback HTTP too."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd
import pytest

from tests.data.test_alphavantage_parse import CGJ, FAKE_KEY, MSFT, STOCK_HEADER, csv_from_json
from tests.vendor_http import Reply, VendorServer
from tradeloom.data.sources.alphavantage import AlphaVantageSource
from tradeloom.data.sources.transport import HttpFetcher
from tradeloom.errors import AuthError, RateLimitedError, RejectedError, TransientError, is_retryable

UTC = timezone.utc


class ScriptedFetcher:
    """A Fetcher answering every call with one body and recording what it was asked."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls: list[tuple[str, dict[str, str]]] = []

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        self.calls.append((path, dict(params or {})))
        return self.body


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def source_for(body: bytes, now: str = "2020-05-08T20:00", **options) -> tuple[AlphaVantageSource, ScriptedFetcher]:
    fetcher = ScriptedFetcher(body)
    return AlphaVantageSource(fetcher, FAKE_KEY, now=lambda: at(now), **options), fetcher


def fixture(fixtures: Path, name: str) -> bytes:
    return (fixtures / name).read_bytes()


@pytest.mark.parametrize(
    ("symbol", "timeframe", "adjusted", "expected"),
    [
        ("IBM", "1d", False, {"function": "TIME_SERIES_DAILY", "symbol": "IBM"}),
        ("IBM", "1d", True, {"function": "TIME_SERIES_DAILY_ADJUSTED", "symbol": "IBM"}),
        ("IBM", "5m", False, {"function": "TIME_SERIES_INTRADAY", "symbol": "IBM", "interval": "5min",
                              "extended_hours": "false"}),
        ("MSFT", "1h", False, {"function": "TIME_SERIES_INTRADAY", "symbol": "MSFT", "interval": "60min",
                               "extended_hours": "false"}),
        ("EURUSD", "1d", False, {"function": "FX_DAILY", "from_symbol": "EUR", "to_symbol": "USD"}),
        ("EURUSD", "15m", False, {"function": "FX_INTRADAY", "from_symbol": "EUR", "to_symbol": "USD",
                                  "interval": "15min"}),
        ("BTCUSD", "1d", False, {"function": "DIGITAL_CURRENCY_DAILY", "symbol": "BTC", "market": "USD"}),
    ],
)
def test_function_and_parameters_follow_asset_class_and_timeframe(
    symbol: str, timeframe: str, adjusted: bool, expected: dict[str, str]
) -> None:
    source, _ = source_for(b"{}", adjusted=adjusted)
    query = source.query(symbol, timeframe, at("2020-05-08T00:00"), at("2020-05-09T00:00"))
    assert {k: v for k, v in query.items() if k not in ("outputsize", "datatype")} == expected
    assert query["datatype"] == "json"
    assert ("outputsize" in query) == (expected["function"] != "DIGITAL_CURRENCY_DAILY")
    assert "apikey" not in query


def test_supports() -> None:
    source, _ = source_for(b"{}")
    assert source.supports("IBM", "1d") and source.supports("AAPL", "1m") and source.supports("EURUSD", "1h")
    assert source.supports("BTCUSD", "1d")
    assert not source.supports("BTCUSD", "1h")  # no free crypto intraday
    assert not source.supports("IBM", "2m") and not source.supports("IBM", "4h")
    assert not source.supports("XAUUSD", "1d") and not source.supports("WSU.DE", "1d")
    assert not source.supports("NOPE", "1d")


def test_unknown_symbol_is_a_value_error_naming_it() -> None:
    source, fetcher = source_for(b"{}")
    with pytest.raises(ValueError, match="'NOPE'"):
        source.fetch_bars("NOPE", "1d", at("2020-05-07T00:00"), at("2020-05-09T00:00"))
    with pytest.raises(ValueError, match="no 1h series for BTCUSD"):
        source.fetch_bars("BTCUSD", "1h", at("2020-05-07T00:00"), at("2020-05-09T00:00"))
    assert fetcher.calls == []


@pytest.mark.parametrize(
    ("timeframe", "start", "expected"),
    [
        ("1d", "2020-01-30T00:00", "compact"),  # 100 dates from 2020-01-30 to 2020-05-08
        ("1d", "2020-01-29T00:00", "full"),
        ("1m", "2020-05-08T18:21", "compact"),  # 100 one-minute slots up to 20:00
        ("1m", "2020-05-08T18:20", "full"),
        ("1h", "2020-05-04T17:00", "compact"),
        ("1h", "2020-05-04T16:00", "full"),
    ],
)
def test_outputsize_is_compact_only_when_the_last_100_points_cover_the_range(
    timeframe: str, start: str, expected: str
) -> None:
    source, _ = source_for(b"{}", now="2020-05-08T20:00")
    assert source.output_size(timeframe, at(start)) == expected


def test_fetch_sends_the_key_and_cuts_the_range(fixtures: Path) -> None:
    source, fetcher = source_for(fixture(fixtures, MSFT), now="2017-12-18T20:00")
    batch = source.fetch_bars("MSFT", "1m", at("2017-12-18T18:30"), at("2017-12-18T19:00"))
    path, params = fetcher.calls[0]
    assert path == "query" and params["apikey"] == FAKE_KEY
    assert params["outputsize"] == "compact"
    assert len(batch.frame) == 30
    assert batch.frame["ts"].iloc[0] == pd.Timestamp("2017-12-18T18:30", tz="UTC")
    assert batch.frame["ts"].iloc[-1] == pd.Timestamp("2017-12-18T18:59", tz="UTC")
    assert (batch.source, batch.symbol, batch.timeframe) == ("alphavantage", "MSFT", "1m")
    assert [p.name for p in batch.raw] == [
        "query?function=TIME_SERIES_INTRADAY&symbol=MSFT&interval=1min&extended_hours=false"
        "&outputsize=compact&datatype=json"]
    assert batch.raw[0].body == fetcher.body


def test_csv_datatype(fixtures: Path) -> None:
    body = csv_from_json(json.loads(fixture(fixtures, f"{CGJ}/timeseries-daily.json")), STOCK_HEADER)
    source, fetcher = source_for(body, datatype="csv")
    batch = source.fetch_bars("IBM", "1d", at("2020-05-01T00:00"), at("2020-05-09T00:00"))
    assert fetcher.calls[0][1]["datatype"] == "csv"
    assert list(batch.frame["close"]) == [121.23, 121.79]


def test_adjusted_daily_carries_the_dividend(fixtures: Path) -> None:
    source, _ = source_for(fixture(fixtures, f"{CGJ}/timeseries-dailyadjusted.json"), adjusted=True)
    batch = source.fetch_bars("IBM", "1d", at("2020-05-01T00:00"), at("2020-05-09T00:00"))
    assert list(batch.frame["adj_close"]) == [121.23, 121.805]
    assert batch.actions[["kind", "value"]].to_dict("records") == [{"kind": "dividend", "value": 1.63}]
    later = source.fetch_bars("IBM", "1d", at("2020-05-08T00:00"), at("2020-05-09T00:00"))
    assert later.actions.empty  # the dividend's date is outside the range


def test_crypto_fetch(fixtures: Path) -> None:
    source, fetcher = source_for(fixture(fixtures, f"{CGJ}/crypto-daily.json"), now="2025-08-24T12:00")
    batch = source.fetch_bars("BTCUSD", "1d", at("2025-08-23T00:00"), at("2025-08-25T00:00"))
    assert fetcher.calls[0][1]["market"] == "USD"
    assert list(batch.frame["ts"]) == [pd.Timestamp("2025-08-23", tz="UTC"), pd.Timestamp("2025-08-24", tz="UTC")]


def test_constructor_validates_without_echoing_the_key() -> None:
    with pytest.raises(ValueError, match="API key is required"):
        AlphaVantageSource(ScriptedFetcher(b""), "", now=lambda: at("2020-01-01T00:00"))
    with pytest.raises(ValueError, match="'xml'"):
        AlphaVantageSource(ScriptedFetcher(b""), FAKE_KEY, now=lambda: at("2020-01-01T00:00"), datatype="xml")
    source, _ = source_for(b"{}")
    assert FAKE_KEY not in repr(source) and FAKE_KEY not in str(source)


# --- over a real HTTP server on 127.0.0.1 -------------------------------------------------------------


@pytest.fixture
def http_source(vendor: VendorServer) -> Iterator[AlphaVantageSource]:
    fetcher = HttpFetcher(vendor.url, timeout=5.0)
    try:
        yield AlphaVantageSource(fetcher, FAKE_KEY, now=lambda: at("2020-05-08T20:00"))
    finally:
        fetcher.close()


def fetch_ibm(source: AlphaVantageSource):
    return source.fetch_bars("IBM", "1d", at("2020-05-01T00:00"), at("2020-05-09T00:00"))


def test_http_daily_sends_the_key_as_a_query_parameter(fixtures: Path, vendor: VendorServer,
                                                       http_source: AlphaVantageSource) -> None:
    vendor.route("/query", Reply(200, fixture(fixtures, f"{CGJ}/timeseries-daily.json")))
    batch = fetch_ibm(http_source)
    assert len(batch.frame) == 2
    assert vendor.requests[0].query == {"function": "TIME_SERIES_DAILY", "symbol": "IBM", "outputsize": "compact",
                                        "datatype": "json", "apikey": FAKE_KEY}
    assert all(FAKE_KEY not in p.name for p in batch.raw)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing/invalid apikey", AuthError),
        ("daily quota exhausted (free tier, 2024+ wording)", RejectedError),
        ("premium-only endpoint (e.g. TIME_SERIES_DAILY_ADJUSTED, FX_INTRADAY on free key)", RejectedError),
        ("invalid call (bad symbol/function/params)", RejectedError),
    ],
)
def test_http_200_notices_are_typed_and_keep_the_key_secret(fixtures: Path, vendor: VendorServer,
                                                            http_source: AlphaVantageSource, case: str,
                                                            expected: type) -> None:
    cases = json.loads(fixture(fixtures, "alphavantage/derived/error-payloads.transcribed.json"))["cases"]
    body = next(c for c in cases if c["case"] == case)["body"]
    vendor.route("/query", Reply(200, json.dumps(body).encode()))
    with pytest.raises(expected) as caught:
        fetch_ibm(http_source)
    assert type(caught.value) is expected
    assert FAKE_KEY not in str(caught.value)


def test_http_key_echoed_in_a_notice_is_scrubbed(vendor: VendorServer, http_source: AlphaVantageSource) -> None:
    body = {"Information": f"We have detected your API key as {FAKE_KEY} and our standard API rate limit is "
                           "25 requests per day."}
    vendor.route("/query", Reply(200, json.dumps(body).encode()))
    with pytest.raises(RejectedError) as caught:
        fetch_ibm(http_source)
    assert FAKE_KEY not in str(caught.value) and not is_retryable(caught.value)


def test_http_503_echoing_the_url_then_200(fixtures: Path, vendor: VendorServer,
                                           http_source: AlphaVantageSource) -> None:
    echo = f"<html>upstream failed for /query?apikey={FAKE_KEY}</html>".encode()
    vendor.route("/query", Reply(503, echo), Reply(200, fixture(fixtures, f"{CGJ}/timeseries-daily.json")))
    with pytest.raises(TransientError) as caught:
        fetch_ibm(http_source)
    assert "503" in str(caught.value) and FAKE_KEY not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(fetch_ibm(http_source).frame) == 2


def test_http_empty_body_and_cut_connection_are_transient(fixtures: Path, vendor: VendorServer,
                                                          http_source: AlphaVantageSource) -> None:
    body = fixture(fixtures, f"{CGJ}/timeseries-daily.json")
    vendor.route("/query", Reply(200, b""), Reply(200, body, cut_after=100))
    for _ in range(2):
        with pytest.raises(TransientError) as caught:
            fetch_ibm(http_source)
        assert type(caught.value) is TransientError and FAKE_KEY not in str(caught.value)


def test_days_before_now_drive_outputsize_over_http(fixtures: Path, vendor: VendorServer,
                                                    http_source: AlphaVantageSource) -> None:
    vendor.route("/query", Reply(200, fixture(fixtures, f"{CGJ}/timeseries-daily.json")))
    start = at("2020-05-08T20:00") - timedelta(days=400)
    http_source.fetch_bars("IBM", "1d", start, at("2020-05-09T00:00"))
    assert vendor.requests[0].query["outputsize"] == "full"
