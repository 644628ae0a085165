"""YahooSource over a real HTTP server on 127.0.0.1, through HttpFetcher: errors as Yahoo sends them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from tests.data.test_yahoo_parse import YF2, chart_body
from tests.vendor_http import Reply, VendorServer
from tradeloom.data.sources.transport import HttpFetcher
from tradeloom.data.sources.yahoo import YahooSource
from tradeloom.errors import (
    CorruptPayloadError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    is_retryable,
)

UTC = timezone.utc
ROUTE = "/v8/finance/chart/AAPL"
START, END = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 3, tzinfo=UTC)


@pytest.fixture
def source(vendor: VendorServer) -> Iterator[YahooSource]:
    fetcher = HttpFetcher(vendor.url, timeout=5.0)
    try:
        yield YahooSource(fetcher, now=lambda: datetime(2025, 2, 20, tzinfo=UTC))
    finally:
        fetcher.close()


def transcribed(fixtures: Path, case: str) -> dict:
    document = json.loads((fixtures / "yahoo/derived/chart-error-payloads.transcribed.json").read_bytes())
    return next(c for c in document["cases"] if c["case"] == case)


def test_recorded_daily_chart_over_http(fixtures: Path, vendor: VendorServer, source: YahooSource) -> None:
    vendor.route(ROUTE, Reply(200, chart_body(fixtures / f"{YF2}/chart-AAPL-2020-01-01-to-2020-01-03.json"),
                              {"Content-Type": "application/json"}))
    batch = source.fetch_bars("AAPL", "1d", START, END)
    assert len(batch.frame) == 1 and batch.frame["volume"].iloc[0] == 135480400.0
    assert vendor.requests[0].query == {"period1": "1577836800", "period2": "1578009600", "interval": "1d",
                                        "includePrePost": "false", "events": "div,splits"}


def test_404_envelope_is_not_found_with_yahoos_description(fixtures: Path, vendor: VendorServer,
                                                           source: YahooSource) -> None:
    case = transcribed(fixtures, "unknown or delisted symbol")
    vendor.route(ROUTE, Reply(case["http_status"], json.dumps(case["body"]).encode()))
    with pytest.raises(NotFoundError) as caught:
        source.fetch_bars("AAPL", "1d", START, END)
    assert "No data found, symbol may be delisted" in str(caught.value)
    assert caught.value.status == 404 and not is_retryable(caught.value)


def test_422_range_error_is_rejected_with_yahoos_description(fixtures: Path, vendor: VendorServer,
                                                             source: YahooSource) -> None:
    case = transcribed(fixtures, "intraday range older than allowed look-back (5m > 60 days; 1h > 730 days; 1m > 30 days)")
    vendor.route(ROUTE, Reply(case["http_status"], json.dumps(case["body"]).encode()))
    with pytest.raises(RejectedError) as caught:
        source.fetch_bars("AAPL", "1d", START, END)
    assert "The requested range must be within the last 60 days." in str(caught.value)
    assert caught.value.status == 422 and not is_retryable(caught.value)


def test_400_invalid_interval_is_rejected(fixtures: Path, vendor: VendorServer, source: YahooSource) -> None:
    case = transcribed(fixtures, "invalid interval")
    vendor.route(ROUTE, Reply(case["http_status"], json.dumps(case["body"]).encode()))
    with pytest.raises(RejectedError, match="interval=7d is not supported"):
        source.fetch_bars("AAPL", "1d", START, END)


def test_plain_text_429_is_rate_limited(fixtures: Path, vendor: VendorServer, source: YahooSource) -> None:
    case = transcribed(fixtures, "rate limited / blocked (edge)")
    vendor.route(ROUTE, Reply(case["http_status"], case["body_text"].encode(),
                              {"Content-Type": "text/plain", "Retry-After": "900"}))
    with pytest.raises(RateLimitedError) as caught:
        source.fetch_bars("AAPL", "1d", START, END)
    assert "Edge: Too Many Requests" in str(caught.value)
    assert caught.value.retry_after == 900.0 and is_retryable(caught.value)


def test_503_then_200_succeeds_on_the_second_call(fixtures: Path, vendor: VendorServer,
                                                  source: YahooSource) -> None:
    body = chart_body(fixtures / f"{YF2}/chart-AAPL-2020-01-01-to-2020-01-03.json")
    vendor.route(ROUTE, Reply(503, b"<html>Service Unavailable</html>"), Reply(200, body))
    with pytest.raises(TransientError) as caught:
        source.fetch_bars("AAPL", "1d", START, END)
    assert type(caught.value) is TransientError and "503" in str(caught.value)
    batch = source.fetch_bars("AAPL", "1d", START, END)
    assert len(batch.frame) == 1 and len(vendor.requests) == 2


def test_empty_200_body_is_transient(vendor: VendorServer, source: YahooSource) -> None:
    vendor.route(ROUTE, Reply(200, b""))
    with pytest.raises(TransientError, match="empty body"):
        source.fetch_bars("AAPL", "1d", START, END)


def test_html_200_body_is_corrupt(vendor: VendorServer, source: YahooSource) -> None:
    vendor.route(ROUTE, Reply(200, b"<!doctype html><title>Yahoo</title>"))
    with pytest.raises(CorruptPayloadError, match="not JSON"):
        source.fetch_bars("AAPL", "1d", START, END)


def test_connection_cut_mid_body_is_transient(fixtures: Path, vendor: VendorServer, source: YahooSource) -> None:
    body = chart_body(fixtures / f"{YF2}/chart-AAPL-2020-01-01-to-2020-01-03.json")
    vendor.route(ROUTE, Reply(200, body, cut_after=len(body) // 2))
    with pytest.raises(TransientError) as caught:
        source.fetch_bars("AAPL", "1d", START, END)
    assert type(caught.value) is TransientError and "connection failed" in str(caught.value)


def test_look_back_refusal_makes_no_request(vendor: VendorServer, source: YahooSource) -> None:
    vendor.route(ROUTE, Reply(200, b"{}"))
    with pytest.raises(RejectedError, match="last 30 days"):
        source.fetch_bars("AAPL", "1m", datetime(2024, 10, 2, tzinfo=UTC), datetime(2024, 10, 3, tzinfo=UTC))
    assert vendor.requests == []
