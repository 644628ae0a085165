"""Yahoo's cookie/crumb handshake end to end, against a loopback Yahoo that refuses chart calls without them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.data.test_yahoo_parse import YF2, chart_body
from tests.vendor_http import Reply, VendorServer
from tradeloom.data.sources.yahoo import YahooSource
from tradeloom.errors import AuthError
from tradeloom.flows.sample import SAMPLE_DIR
from tradeloom.settings.market import MarketDataSettings
from tradeloom.tasks.market_sources import SourceEndpoints, open_source

UTC = timezone.utc
START, END = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 3, tzinfo=UTC)
COOKIE = "A3=d=AQABBtradeloomtest"
INVALID_CRUMB = b'{"finance":{"result":null,"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}'


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    cookie: str


class CrumbGuardedYahoo:
    """fc.yahoo.com, query1's getcrumb and query2's chart on one loopback server, checking cookie and crumb like Yahoo.

    The chart answers 401 "Invalid Crumb" unless the call carries the A3 cookie and the current crumb.
    """

    def __init__(self, chart: bytes) -> None:
        self.crumb = "Xy7.abc/Def"
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query, cookie = dict(parse_qsl(parts.query)), self.headers.get("Cookie", "")
                server.requests.append(Seen(parts.path, query, cookie))
                headers: dict[str, str] = {}
                if parts.path == "/fc":
                    status, body, headers = 404, b"Not Found", {"Set-Cookie": f"{COOKIE}; Path=/; HttpOnly"}
                elif parts.path == "/v1/test/getcrumb":
                    status, body = (200, server.crumb.encode()) if COOKIE in cookie else (401, b"")
                elif COOKIE in cookie and query.get("crumb") == server.crumb:
                    status, body = 200, chart
                else:
                    status, body = 401, INVALID_CRUMB
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def yahoo(fixtures: Path) -> Iterator[CrumbGuardedYahoo]:
    server = CrumbGuardedYahoo(chart_body(fixtures / f"{YF2}/chart-AAPL-2020-01-01-to-2020-01-03.json"))
    try:
        yield server
    finally:
        server.close()


def endpoints(home: Path, yahoo_url: str, cookie_url: str, crumb_url: str) -> SourceEndpoints:
    return SourceEndpoints.from_settings(MarketDataSettings(), home, yahoo_url=yahoo_url, yahoo_cookie_url=cookie_url,
                                         yahoo_crumb_url=crumb_url, http_timeout_seconds=5.0)


@pytest.fixture
def over_http(yahoo: CrumbGuardedYahoo, home: Path) -> SourceEndpoints:
    return endpoints(home, yahoo.url, f"{yahoo.url}/fc", yahoo.url)


def chart_calls(yahoo: CrumbGuardedYahoo) -> list[Seen]:
    return [r for r in yahoo.requests if r.path == "/v8/finance/chart/AAPL"]


def test_chart_calls_carry_the_cookie_and_crumb_of_the_handshake(yahoo: CrumbGuardedYahoo, over_http: SourceEndpoints):
    with open_source("yahoo", over_http) as source:
        batch = source.fetch_bars("AAPL", "1d", START, END)

    assert len(batch.frame) == 1 and batch.frame["volume"].iloc[0] == 135480400.0
    assert yahoo.paths() == ["/fc", "/v1/test/getcrumb", "/v8/finance/chart/AAPL"]
    [chart] = chart_calls(yahoo)
    assert chart.query["crumb"] == "Xy7.abc/Def" and COOKIE in chart.cookie
    assert "crumb" not in batch.raw[0].name  # the crumb stays out of what is kept with a batch


def test_a_rejected_crumb_is_renewed_once_and_the_call_retried(yahoo: CrumbGuardedYahoo, over_http: SourceEndpoints):
    with open_source("yahoo", over_http) as source:
        source.fetch_bars("AAPL", "1d", START, END)
        yahoo.crumb = "Renewed.crumb"  # Yahoo expired the session's crumb
        batch = source.fetch_bars("AAPL", "1d", START, END)

    assert len(batch.frame) == 1
    assert yahoo.paths()[3:] == ["/v8/finance/chart/AAPL", "/fc", "/v1/test/getcrumb", "/v8/finance/chart/AAPL"]
    assert [c.query["crumb"] for c in chart_calls(yahoo)] == ["Xy7.abc/Def", "Xy7.abc/Def", "Renewed.crumb"]


def test_a_crumb_yahoo_keeps_refusing_is_an_auth_error_after_one_renewal(yahoo: CrumbGuardedYahoo, home: Path,
                                                                         vendor: VendorServer):
    # The crumb comes from another host that hands out a crumb the chart always refuses.
    vendor.route("/v1/test/getcrumb", Reply(body=b"Never.valid"))
    with open_source("yahoo", endpoints(home, yahoo.url, f"{yahoo.url}/fc", vendor.url)) as source:
        with pytest.raises(AuthError) as caught:
            source.fetch_bars("AAPL", "1d", START, END)

    assert yahoo.paths() == ["/fc", "/v8/finance/chart/AAPL", "/fc", "/v8/finance/chart/AAPL"]
    assert caught.value.status == 401 and "Invalid Crumb" in str(caught.value)
    assert "Never.valid" not in str(caught.value) and "Never.valid" not in str(caught.value.__cause__)


def test_a_mirror_directory_needs_no_handshake(home: Path):
    # Unreachable handshake hosts: a mirror must never try them.
    mirror = endpoints(home, str(SAMPLE_DIR / "yahoo"), "http://127.0.0.1:9/fc", "http://127.0.0.1:9")
    with open_source("yahoo", mirror) as source:
        batch = source.fetch_bars("AAPL", "1d", datetime(2020, 8, 31, tzinfo=UTC), datetime(2020, 11, 7, tzinfo=UTC))
    assert len(batch.frame) > 0


def test_without_a_handshake_the_source_sends_no_crumb(yahoo: CrumbGuardedYahoo):
    from tradeloom.data.sources.transport import HttpFetcher

    with HttpFetcher(yahoo.url, timeout=5.0) as fetcher:
        with pytest.raises(AuthError):
            YahooSource(fetcher, now=lambda: datetime(2025, 2, 20, tzinfo=UTC)).fetch_bars("AAPL", "1d", START, END)
    assert yahoo.paths() == ["/v8/finance/chart/AAPL"] and "crumb" not in yahoo.requests[0].query


def test_a_chart_url_on_another_host_gets_no_handshake_with_yahoos_hosts(fixtures: Path, home: Path,
                                                                           vendor: VendorServer):
    # --base-url pointed at a local HTTP mirror, handshake URLs left at Yahoo's defaults: no call to Yahoo
    # (offline it would fail every unit) and no Yahoo crumb sent to the mirror.
    vendor.route("/v8/finance/chart/AAPL", Reply(body=chart_body(fixtures / f"{YF2}/chart-AAPL-2020-01-01-to-2020-01-03.json")))
    defaults = MarketDataSettings()
    assert "yahoo.com" in defaults.yahoo_crumb_url and "yahoo.com" in defaults.yahoo_cookie_url
    with open_source("yahoo", endpoints(home, vendor.url, defaults.yahoo_cookie_url, defaults.yahoo_crumb_url)) as source:
        batch = source.fetch_bars("AAPL", "1d", START, END)
    assert len(batch.frame) == 1
    assert [(r.path, "crumb" in r.query) for r in vendor.requests] == [("/v8/finance/chart/AAPL", False)]
