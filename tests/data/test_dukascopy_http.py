"""Dukascopy over real HTTP on 127.0.0.1 through HttpFetcher: no data, bad bodies, throttling, cuts."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.vendor_http import Reply, VendorServer
from tradeloom.data.sources.dukascopy import DukascopySource, EmptyWhereDataExpectedError
from tradeloom.data.sources.transport import HttpFetcher
from tradeloom.errors import CorruptPayloadError, RateLimitedError, TransientError

MONDAY = datetime(2019, 2, 4, 0, tzinfo=timezone.utc)  # FX market open
MONDAY_PATH = "/datafeed/EURUSD/2019/01/04/00h_ticks.bi5"
SATURDAY = datetime(2019, 2, 9, 12, tzinfo=timezone.utc)  # FX market closed
SATURDAY_PATH = "/datafeed/EURUSD/2019/01/09/12h_ticks.bi5"
MONDAY_01H_PATH = "/datafeed/EURUSD/2019/01/04/01h_ticks.bi5"
SUNDAY_21H_PATH = "/datafeed/EURUSD/2019/01/03/21h_ticks.bi5"  # closed: the FX week opens at 22:00 UTC in winter
SUNDAY_22H_PATH = "/datafeed/EURUSD/2019/01/03/22h_ticks.bi5"


def after_the_fixtures() -> datetime:
    return datetime(2026, 11, 21, tzinfo=timezone.utc)


def hour_after(moment: datetime) -> datetime:
    return moment.replace(hour=moment.hour + 1)


@pytest.fixture
def ticks_00h(fixtures: Path) -> bytes:
    return (fixtures / "dukascopy/datafeed/EURUSD/2019/01/04/00h_ticks.bi5").read_bytes()


@pytest.fixture
def pauses() -> list[float]:
    return []


@pytest.fixture
def source(vendor: VendorServer, pauses: list[float]) -> DukascopySource:
    return DukascopySource(HttpFetcher(f"{vendor.url}/datafeed", timeout=5), api="legacy", sleep=pauses.append)


def requested(vendor: VendorServer, path: str) -> int:
    return sum(1 for r in vendor.requests if r.path == path)


def test_ticks_over_http(vendor: VendorServer, source: DukascopySource, ticks_00h: bytes) -> None:
    vendor.route(MONDAY_PATH, Reply(200, ticks_00h))
    batch = source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert len(batch.frame) == 3733
    assert batch.raw[0].body == ticks_00h


def test_404_is_no_data(vendor: VendorServer, source: DukascopySource, pauses: list[float]) -> None:
    batch = source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert batch.frame.empty and batch.raw == ()
    assert requested(vendor, MONDAY_PATH) == 1 and pauses == []


def test_empty_body_on_a_weekend_is_no_data_without_retry(
    vendor: VendorServer, source: DukascopySource, pauses: list[float]
) -> None:
    vendor.route(SATURDAY_PATH, Reply(200, b""))
    assert source.fetch_ticks("EURUSD", SATURDAY, hour_after(SATURDAY)).frame.empty
    assert requested(vendor, SATURDAY_PATH) == 1 and pauses == []


def test_empty_body_in_open_market_is_asked_again(
    vendor: VendorServer, source: DukascopySource, pauses: list[float], ticks_00h: bytes
) -> None:
    vendor.route(MONDAY_PATH, Reply(200, b""), Reply(200, ticks_00h))
    assert len(source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY)).frame) == 3733
    assert requested(vendor, MONDAY_PATH) == 2 and pauses == [0.5]


def test_an_open_hour_that_stays_empty_is_a_transient_error(
    vendor: VendorServer, source: DukascopySource, pauses: list[float]
) -> None:
    vendor.route(MONDAY_PATH, Reply(200, b""))
    with pytest.raises(EmptyWhereDataExpectedError) as caught:
        source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert isinstance(caught.value, TransientError)  # the fetch task retries it with backoff
    assert str(caught.value) == (
        "EURUSD 2019-02-04T00:00:00+00:00 to 2019-02-04T01:00:00+00:00: Dukascopy answered an empty body for "
        "every file whose market was open, 3 times each: EURUSD/2019/01/04/00h_ticks.bi5"
    )
    assert requested(vendor, MONDAY_PATH) == 3 and pauses == [0.5, 1.0]


def test_data_on_the_third_ask_is_taken(
    vendor: VendorServer, source: DukascopySource, pauses: list[float], ticks_00h: bytes
) -> None:
    vendor.route(MONDAY_PATH, Reply(200, b""), Reply(200, b""), Reply(200, ticks_00h))
    batch = source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert len(batch.frame) == 3733 and batch.raw[0].body == ticks_00h
    assert requested(vendor, MONDAY_PATH) == 3 and pauses == [0.5, 1.0]


def test_an_empty_open_hour_beside_hours_with_data_is_accepted(
    vendor: VendorServer, source: DukascopySource, pauses: list[float], ticks_00h: bytes
) -> None:
    # A holiday hour inside a week looks like this: the validation reports the gap, the fetch keeps the data.
    vendor.route(MONDAY_PATH, Reply(200, ticks_00h))
    vendor.route(MONDAY_01H_PATH, Reply(200, b""))
    batch = source.fetch_ticks("EURUSD", MONDAY, MONDAY.replace(hour=2))
    assert len(batch.frame) == 3733
    assert [raw.name for raw in batch.raw] == ["EURUSD/2019/01/04/00h_ticks.bi5"]
    assert requested(vendor, MONDAY_01H_PATH) == 3 and pauses == [0.5, 1.0]


def test_only_the_open_hours_that_stay_empty_are_named(
    vendor: VendorServer, source: DukascopySource, pauses: list[float]
) -> None:
    vendor.route(SUNDAY_21H_PATH, Reply(200, b""))
    vendor.route(SUNDAY_22H_PATH, Reply(200, b""))
    sunday_21h = datetime(2019, 2, 3, 21, tzinfo=timezone.utc)
    with pytest.raises(EmptyWhereDataExpectedError, match=r"3 times each: EURUSD/2019/01/03/22h_ticks\.bi5$"):
        source.fetch_ticks("EURUSD", sunday_21h, sunday_21h.replace(hour=23))
    assert requested(vendor, SUNDAY_21H_PATH) == 1 and requested(vendor, SUNDAY_22H_PATH) == 3


def test_an_empty_json_period_on_a_trading_day_is_a_transient_error(
    vendor: VendorServer, fixtures: Path, pauses: list[float]
) -> None:
    # The recorded body of Saturday 2026-07-11 (null prices, no bars), answered for Friday 2026-07-10.
    empty = (fixtures / "dukascopy/jetta-json-api/candles-minute-EUR-USD-BID-2026-7-11-empty.json").read_bytes()
    vendor.route("/v1/candles/minute/EUR-USD/BID/2026/7/10", Reply(200, empty))
    source = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", sleep=pauses.append, now=after_the_fixtures)
    friday = datetime(2026, 7, 10, tzinfo=timezone.utc)
    with pytest.raises(EmptyWhereDataExpectedError, match=r"3 times each: candles/minute/EUR-USD/BID/2026/7/10$"):
        source.fetch_bars("EURUSD", "1m", friday, friday.replace(day=11))
    assert requested(vendor, "/v1/candles/minute/EUR-USD/BID/2026/7/10") == 3 and pauses == [0.5, 1.0]


def test_html_error_page_is_corrupt_never_data(vendor: VendorServer, source: DukascopySource) -> None:
    page = b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head></html>"
    vendor.route(MONDAY_PATH, Reply(200, page, {"Content-Type": "text/html"}))
    with pytest.raises(CorruptPayloadError, match="EURUSD/2019/01/04/00h_ticks.bi5 is not an LZMA-alone") as caught:
        source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert caught.value.payload == page


def test_corrupt_body_is_not_cached(vendor: VendorServer, tmp_path: Path) -> None:
    vendor.route(MONDAY_PATH, Reply(200, b"<html>oops</html>"))
    source = DukascopySource(HttpFetcher(f"{vendor.url}/datafeed"), api="legacy", cache_dir=tmp_path)
    with pytest.raises(CorruptPayloadError):
        source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert list(tmp_path.rglob("*.body")) == []


def test_429_is_rate_limited(vendor: VendorServer, source: DukascopySource) -> None:
    vendor.route(MONDAY_PATH, Reply(429, b"Too Many Requests", {"Retry-After": "7"}))
    with pytest.raises(RateLimitedError) as caught:
        source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert caught.value.retry_after == 7.0


def test_503_is_transient_and_the_next_call_succeeds(
    vendor: VendorServer, source: DukascopySource, ticks_00h: bytes
) -> None:
    vendor.route(MONDAY_PATH, Reply(503, b"Service Unavailable"), Reply(200, ticks_00h))
    with pytest.raises(TransientError, match="HTTP 503"):
        source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))
    assert len(source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY)).frame) == 3733


def test_connection_cut_mid_body_is_transient(vendor: VendorServer, source: DukascopySource, ticks_00h: bytes) -> None:
    vendor.route(MONDAY_PATH, Reply(200, ticks_00h, cut_after=1000))
    with pytest.raises(TransientError, match="connection failed"):
        source.fetch_ticks("EURUSD", MONDAY, hour_after(MONDAY))


def test_one_failing_hour_fails_the_range(vendor: VendorServer, source: DukascopySource, ticks_00h: bytes) -> None:
    vendor.route(MONDAY_PATH, Reply(200, ticks_00h))
    vendor.route("/datafeed/EURUSD/2019/01/04/01h_ticks.bi5", Reply(503, b"busy"))
    with pytest.raises(TransientError, match="01h_ticks.bi5"):
        source.fetch_ticks("EURUSD", MONDAY, MONDAY.replace(hour=3))


def test_json_api_over_http(vendor: VendorServer, fixtures: Path, pauses: list[float]) -> None:
    body = (fixtures / "dukascopy/jetta-json-api/ticks-EUR-USD-2026-7-13-12.json").read_bytes()
    vendor.route("/v1/ticks/EUR-USD/2026/7/13/12", Reply(200, b""), Reply(200, body))
    source = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", sleep=pauses.append, now=after_the_fixtures)
    hour = datetime(2026, 7, 13, 12, tzinfo=timezone.utc)
    batch = source.fetch_ticks("EURUSD", hour, hour_after(hour))
    assert len(batch.frame) == 3551 and pauses == [0.5]
    assert batch.raw[0].name == "ticks/EUR-USD/2026/7/13/12"
