"""The JSON API's running period: asked for with ?from=<period start ms> at the undated path, never cached,
nothing after now() asked for; over real HTTP on 127.0.0.1 and from a mirror directory."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from tests.vendor_http import Reply, VendorServer
from tradeloom.data.sources.dukascopy import DukascopySource, decode_jetta_candles, decode_jetta_ticks
from tradeloom.data.sources.dukascopy.urls import (
    jetta_active_candle_path,
    jetta_active_query,
    jetta_active_tick_path,
    periods_until,
)
from tradeloom.data.sources.transport import DirectoryFetcher, HttpFetcher

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
TICKS_12H = "ticks-EUR-USD-2026-7-13-12.json"  # 2026-07-13 12:00-13:00 UTC, 3551 ticks
MINUTES_FRIDAY = "candles-minute-EUR-USD-BID-2026-7-10.json"  # 2026-07-10, 1258 bars
TICK_ARRAYS = ("times", "asks", "bids", "askVolumes", "bidVolumes")
CANDLE_ARRAYS = ("times", "opens", "highs", "lows", "closes", "volumes")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def clock(moment: datetime):  # noqa: ANN201 (a clock is a callable)
    return lambda: moment


def recorded(fixtures: Path, name: str) -> dict:
    return json.loads((fixtures / "dukascopy" / "jetta-json-api" / name).read_bytes())


def cut_at(payload: dict, elapsed: int, arrays: tuple[str, ...]) -> bytes:
    """The recorded completed period as the running one answers ``elapsed`` (ms or bars) into it: the entries before."""
    keep = sum(1 for offset in itertools.accumulate(payload["times"]) if offset < elapsed)
    return json.dumps({**payload, **{key: payload[key][:keep] for key in arrays}}).encode()


def moved(payload: dict, by_ms: int) -> bytes:
    """The recorded period re-dated by ``by_ms`` (deltas are relative, so only the timestamp changes)."""
    return json.dumps({**payload, "timestamp": payload["timestamp"] + by_ms}).encode()


def seen(vendor: VendorServer) -> list[tuple[str, dict[str, str]]]:
    return sorted((request.path, request.query) for request in vendor.requests)


def cached(cache: Path) -> list[str]:
    return sorted(str(file.relative_to(cache)) for file in cache.rglob("*.body"))


def test_running_period_urls_follow_dukascopy_node() -> None:
    # dukascopy-node (src/url-generator/index.ts, getActivePeriodUrl): `${base}?from=${+bucketStart}`.
    assert jetta_active_tick_path("EUR-USD") == "ticks/EUR-USD"
    assert jetta_active_candle_path("BTC-USD", "bid", "1m") == "candles/minute/BTC-USD/BID"
    assert jetta_active_candle_path("EUR-USD", "ask", "1h") == "candles/hour/EUR-USD/ASK"
    assert jetta_active_candle_path("EUR-USD", "bid", "1d") == "candles/day/EUR-USD/BID"
    # Its mock server's running day: candles/minute/BTC-USD/BID?from=1783900800000 (2026-07-13 00:00 UTC).
    assert jetta_active_query(utc(2026, 7, 13)) == (("from", "1783900800000"),)
    assert periods_until(utc(2026, 7, 13, 11, 15), utc(2026, 7, 13, 15), "hour", utc(2026, 7, 13, 12, 30)) == [
        (utc(2026, 7, 13, 11), False), (utc(2026, 7, 13, 12), True)]
    # A period that starts exactly at now() has nothing yet and is not asked for.
    assert periods_until(utc(2026, 7, 13, 12), utc(2026, 7, 13, 14), "hour", utc(2026, 7, 13, 13)) == [
        (utc(2026, 7, 13, 12), False)]
    assert periods_until(utc(2026, 7, 14), utc(2026, 7, 15), "day", utc(2026, 7, 13, 13)) == []
    # An end before now inside the running period still asks for it as running.
    assert periods_until(utc(2026, 7, 1), utc(2026, 7, 10, 8), "month", utc(2026, 7, 10, 15)) == [
        (utc(2026, 7, 1), True)]


def test_running_hour_of_ticks_over_http(vendor: VendorServer, fixtures: Path, tmp_path: Path) -> None:
    now = utc(2026, 7, 13, 12, 30)
    payload = recorded(fixtures, TICKS_12H)
    vendor.route("/v1/ticks/EUR-USD/2026/7/13/11", Reply(200, moved(payload, -HOUR_MS)))
    vendor.route("/v1/ticks/EUR-USD", Reply(200, cut_at(payload, 30 * 60_000, TICK_ARRAYS)))
    cache = tmp_path / "cache"
    source = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", now=clock(now), cache_dir=cache)

    batch = source.fetch_ticks("EURUSD", utc(2026, 7, 13, 11), utc(2026, 7, 13, 14))

    # The completed 11h at its dated path; the running 12h from its start (1783944000000); 13h not at all.
    assert seen(vendor) == [("/v1/ticks/EUR-USD", {"from": "1783944000000"}), ("/v1/ticks/EUR-USD/2026/7/13/11", {})]
    assert [raw.name for raw in batch.raw] == ["ticks/EUR-USD/2026/7/13/11", "ticks/EUR-USD?from=1783944000000"]
    frame = batch.frame
    assert len(frame) == 3551 + 1906  # the whole 11h, and 12h's ticks before 12:30
    running = frame[frame["ts"] >= pd.Timestamp(utc(2026, 7, 13, 12))]
    first, last = running.iloc[0], running.iloc[-1]
    assert (first.ts, first.ask, first.bid, first.ask_volume, first.bid_volume) == (
        pd.Timestamp("2026-07-13T12:00:00.093Z"), 1.14277, 1.14273, 1.8, 2.7)
    assert (last.ts, last.ask, last.bid, last.ask_volume, last.bid_volume) == (
        pd.Timestamp("2026-07-13T12:29:59.104Z"), 1.14244, 1.14239, 0.9, 0.9)
    # The running body decodes to exactly the recorded hour's ticks before now.
    whole = decode_jetta_ticks(json.dumps(payload).encode())
    assert running["ts"].to_numpy(dtype="datetime64[ns]").view("int64").tolist() == whole.ts_ns[:1906].tolist()
    assert running["ask"].tolist() == whole.ask[:1906].tolist()

    # 11h ended only 30 minutes ago (the vendor may still be publishing it): not cached yet; at 12:59 neither.
    assert cached(cache) == []
    almost = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", now=clock(utc(2026, 7, 13, 12, 59)),
                             cache_dir=cache)
    assert len(almost.fetch_ticks("EURUSD", utc(2026, 7, 13, 11), utc(2026, 7, 13, 12)).frame) == 3551
    assert cached(cache) == []
    # An hour after it ended its file is final: cached, and read from the cache from then on.
    settled = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", now=clock(utc(2026, 7, 13, 13, 0)),
                              cache_dir=cache)
    assert len(settled.fetch_ticks("EURUSD", utc(2026, 7, 13, 11), utc(2026, 7, 13, 12)).frame) == 3551
    assert cached(cache) == ["ticks/EUR-USD/2026/7/13/11.body"]
    vendor.requests.clear()
    again = settled.fetch_ticks("EURUSD", utc(2026, 7, 13, 11), utc(2026, 7, 13, 12))
    assert seen(vendor) == [] and len(again.frame) == 3551


def test_running_day_of_minute_candles_over_http(vendor: VendorServer, fixtures: Path, tmp_path: Path) -> None:
    now = utc(2026, 7, 10, 15)
    payload = recorded(fixtures, MINUTES_FRIDAY)
    vendor.route("/v1/candles/minute/EUR-USD/BID/2026/7/9", Reply(200, moved(payload, -DAY_MS)))
    vendor.route("/v1/candles/minute/EUR-USD/BID", Reply(200, cut_at(payload, 15 * 60, CANDLE_ARRAYS)))
    cache = tmp_path / "cache"
    source = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", now=clock(now), cache_dir=cache)

    batch = source.fetch_bars("EURUSD", "1m", utc(2026, 7, 9), utc(2026, 7, 12))

    # Thursday completed, Friday running from 1783641600000 (2026-07-10 00:00), Saturday not asked for.
    assert seen(vendor) == [("/v1/candles/minute/EUR-USD/BID", {"from": "1783641600000"}),
                            ("/v1/candles/minute/EUR-USD/BID/2026/7/9", {})]
    frame = batch.frame
    assert len(frame) == 1258 + 900  # Thursday's bars, and Friday's 00:00-14:59
    friday = frame[frame["ts"] >= pd.Timestamp(utc(2026, 7, 10))]
    assert friday.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [1.14331, 1.14334, 1.14322, 1.14324, 197.1]
    assert friday.iloc[-1]["ts"] == pd.Timestamp("2026-07-10T14:59Z")
    assert friday.iloc[-1][["open", "high", "low", "close", "volume"]].tolist() == [1.14225, 1.14228, 1.14217, 1.14223, 99.9]
    whole = decode_jetta_candles(json.dumps(payload).encode())
    assert friday["close"].tolist() == whole.close[:900].tolist()
    assert cached(cache) == ["candles/minute/EUR-USD/BID/2026/7/9.body"]


@pytest.mark.parametrize(
    ("timeframe", "start", "end", "requests"),
    [
        ("1h", utc(2026, 6, 1), utc(2026, 9, 1), [
            ("/v1/candles/hour/EUR-USD/ASK", {"from": "1782864000000"}),  # July 2026, running
            ("/v1/candles/hour/EUR-USD/ASK/2026/6", {}),
            ("/v1/candles/hour/EUR-USD/BID", {"from": "1782864000000"}),
            ("/v1/candles/hour/EUR-USD/BID/2026/6", {}),
        ]),
        ("1d", utc(2025, 1, 1), utc(2027, 1, 1), [
            ("/v1/candles/day/EUR-USD/ASK", {"from": "1767225600000"}),  # 2026, running
            ("/v1/candles/day/EUR-USD/ASK/2025", {}),
            ("/v1/candles/day/EUR-USD/BID", {"from": "1767225600000"}),
            ("/v1/candles/day/EUR-USD/BID/2025", {}),
        ]),
        ("4h", utc(2026, 7, 10, 16), utc(2026, 7, 11), []),  # all after now
    ],
)
def test_running_month_and_year_for_both_sides(
    vendor: VendorServer, timeframe: str, start: datetime, end: datetime, requests: list
) -> None:
    # Every file answers 404 (no data); only what is asked for matters here.
    source = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", price_side="mid", now=clock(utc(2026, 7, 10, 15)))
    assert source.fetch_bars("EURUSD", timeframe, start, end).frame.empty
    assert seen(vendor) == requests


def test_a_mirror_serves_the_running_period_from_its_query_file(fixtures: Path, tmp_path: Path) -> None:
    """DirectoryFetcher looks for ``<path>/<k=v query>``: ``ticks/EUR-USD/from=1783944000000``; absent, no data."""
    now = utc(2026, 7, 13, 12, 30)
    payload = recorded(fixtures, TICKS_12H)
    root = tmp_path / "v1"
    (root / "ticks/EUR-USD/2026/7/13").mkdir(parents=True)
    (root / "ticks/EUR-USD/2026/7/13/11").write_bytes(moved(payload, -HOUR_MS))
    source = DukascopySource(DirectoryFetcher(root), api="json", now=clock(now))
    hours = (utc(2026, 7, 13, 11), utc(2026, 7, 13, 13))

    without = source.fetch_ticks("EURUSD", *hours)
    assert len(without.frame) == 3551 and [raw.name for raw in without.raw] == ["ticks/EUR-USD/2026/7/13/11"]

    (root / "ticks/EUR-USD/from=1783944000000").write_bytes(cut_at(payload, 30 * 60_000, TICK_ARRAYS))
    with_running = source.fetch_ticks("EURUSD", *hours)
    assert len(with_running.frame) == 3551 + 1906
    assert with_running.raw[-1].name == "ticks/EUR-USD?from=1783944000000"


def test_a_running_hour_that_is_still_empty_is_no_data_not_an_error(vendor: VendorServer, fixtures: Path) -> None:
    empty = recorded(fixtures, TICKS_12H) | {"ask": None, "bid": None, **{key: [] for key in TICK_ARRAYS}}
    vendor.route("/v1/ticks/EUR-USD", Reply(200, json.dumps(empty).encode()))
    pauses: list[float] = []
    source = DukascopySource(HttpFetcher(f"{vendor.url}/v1"), api="json", now=clock(utc(2026, 7, 13, 12, 0, 5)),
                             sleep=pauses.append)
    assert source.fetch_ticks("EURUSD", utc(2026, 7, 13, 12), utc(2026, 7, 13, 13)).frame.empty
    assert seen(vendor) == [("/v1/ticks/EUR-USD", {"from": "1783944000000"})] and pauses == []


def test_the_legacy_datafeed_asks_for_every_hour_whatever_the_clock(vendor: VendorServer, fixtures: Path) -> None:
    ticks = (fixtures / "dukascopy/datafeed/EURUSD/2019/01/04/00h_ticks.bi5").read_bytes()
    vendor.route("/datafeed/EURUSD/2019/01/04/00h_ticks.bi5", Reply(200, ticks))
    source = DukascopySource(HttpFetcher(f"{vendor.url}/datafeed"), api="legacy", now=clock(utc(2019, 2, 4, 0, 30)))
    assert len(source.fetch_ticks("EURUSD", utc(2019, 2, 4), utc(2019, 2, 4, 2)).frame) == 3733
    assert seen(vendor) == [("/datafeed/EURUSD/2019/01/04/00h_ticks.bi5", {}),
                            ("/datafeed/EURUSD/2019/01/04/01h_ticks.bi5", {})]


def test_the_json_api_needs_an_aware_clock(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the Dukascopy JSON API needs a clock"):
        DukascopySource(DirectoryFetcher(tmp_path), api="json")
    naive = DukascopySource(DirectoryFetcher(tmp_path), api="json", now=lambda: datetime(2026, 7, 13, 12))
    with pytest.raises(ValueError, match=r"now\(\) must be timezone-aware"):
        naive.fetch_ticks("EURUSD", utc(2026, 7, 13, 11), utc(2026, 7, 13, 12))
