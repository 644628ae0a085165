"""Fetchers are closeable: as context managers they close their HTTP connection pools, and so do the sources tasks open."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.vendor_http import Reply, VendorServer
from tradeloom.errors import NotFoundError
from tradeloom.data.sources.transport import DirectoryFetcher, HttpFetcher, fetcher_for
from tradeloom.settings.market import MarketDataSettings
from tradeloom.tasks.market_sources import SourceEndpoints, open_source

UTC = timezone.utc


def test_an_http_fetcher_used_as_a_context_manager_closes_its_client(vendor: VendorServer):
    vendor.route("/hello", Reply(200, b"hi"))

    with HttpFetcher(vendor.url, timeout=5.0) as fetcher:
        assert not fetcher.closed
        assert fetcher.get("hello") == b"hi"

    assert fetcher.closed
    with pytest.raises(RuntimeError, match="closed"):
        fetcher.get("hello")
    assert len(vendor.requests) == 1


def test_an_error_inside_the_block_still_closes_the_client(vendor: VendorServer):
    with pytest.raises(ZeroDivisionError):
        with fetcher_for(vendor.url, timeout=5.0) as fetcher:
            assert isinstance(fetcher, HttpFetcher)
            1 / 0
    assert fetcher.closed


def test_a_directory_fetcher_is_a_context_manager_too(tmp_path: Path):
    (tmp_path / "file").write_bytes(b"x")
    with fetcher_for(str(tmp_path)) as fetcher:
        assert isinstance(fetcher, DirectoryFetcher) and fetcher.get("file") == b"x"


def test_a_source_opened_for_a_task_stops_fetching_when_its_block_ends(vendor: VendorServer, home: Path):
    endpoints = SourceEndpoints.from_settings(MarketDataSettings(), home, yahoo_url=vendor.url, http_timeout_seconds=5.0,
                                              yahoo_cookie_url=f"{vendor.url}/fc", yahoo_crumb_url=vendor.url)
    vendor.route("/v1/test/getcrumb", Reply(200, b"crumb"))
    vendor.route("/v8/finance/chart/AAPL", Reply(404, b'{"chart": {"result": null, "error": {"code": "Not Found", '
                                                       b'"description": "No data found"}}}'))
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 3, tzinfo=UTC)

    with open_source("yahoo", endpoints) as source:
        with pytest.raises(NotFoundError, match="No data found"):
            source.fetch_bars("AAPL", "1d", start, end)

    with pytest.raises(RuntimeError, match="closed"):
        source.fetch_bars("AAPL", "1d", start, end)
