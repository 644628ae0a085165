"""DukascopySource over a mirror of the real files: expected outputs, ranges, sides, roll-ups, caching, concurrency."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pytest

from tradeloom.data.sources.dukascopy import DukascopySource, EmptyWhereDataExpectedError
from tradeloom.data.sources.dukascopy.urls import (
    jetta_candle_path,
    jetta_tick_path,
    legacy_candle_path,
    legacy_tick_path,
    periods_between,
)
from tradeloom.data.sources.transport import DirectoryFetcher
from tradeloom.errors import TransientError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def epoch_ms(series: pd.Series) -> list[int]:
    return (series.to_numpy(dtype="datetime64[ns]").view("int64") // 1_000_000).tolist()


@pytest.fixture
def datafeed(fixtures: Path) -> Path:
    return fixtures / "dukascopy" / "datafeed"


@pytest.fixture
def expected(fixtures: Path) -> Path:
    return fixtures / "dukascopy" / "expected" / "dukascopy-node"


class CountingFetcher:
    """A mirror fetcher that records every path asked for and the peak number of requests in flight."""

    def __init__(self, inner: DirectoryFetcher, hold_until_peak: int = 0) -> None:
        self.inner = inner
        self.paths: list[str] = []
        self.in_flight = 0
        self.peak = 0
        self.hold_until_peak = hold_until_peak
        self._changed = threading.Condition()

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        with self._changed:
            self.paths.append(path)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self._changed.notify_all()
            # Hold requests until the pool has filled up once, so the peak is reached deterministically.
            self._changed.wait_for(lambda: self.peak >= self.hold_until_peak, timeout=5)
        try:
            return self.inner.get(path, params)
        finally:
            with self._changed:
                self.in_flight -= 1


class FailingFetcher:
    """A fetcher for a vendor that is down: every request is a transient error."""

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        raise TransientError(f"HTTP 503 from {path}")


def test_url_schemes() -> None:
    hour = utc(2019, 6, 22, 16)
    assert legacy_tick_path("EURUSD", hour) == "EURUSD/2019/05/22/16h_ticks.bi5"
    assert legacy_tick_path("EURUSD", utc(2019, 12, 31, 23)) == "EURUSD/2019/11/31/23h_ticks.bi5"
    assert legacy_candle_path("EURUSD", "bid", "1h", utc(2019, 1, 1)) == "EURUSD/2019/00/BID_candles_hour_1.bi5"
    assert legacy_candle_path("EURUSD", "ask", "1m", utc(2019, 2, 4)) == "EURUSD/2019/01/04/ASK_candles_min_1.bi5"
    assert legacy_candle_path("BTCUSD", "bid", "1d", utc(2022, 1, 1)) == "BTCUSD/2022/BID_candles_day_1.bi5"
    assert jetta_tick_path("EUR-USD", utc(2026, 7, 13, 12)) == "ticks/EUR-USD/2026/7/13/12"
    assert jetta_candle_path("EUR-USD", "bid", "1m", utc(2026, 7, 10)) == "candles/minute/EUR-USD/BID/2026/7/10"
    assert jetta_candle_path("EUR-USD", "ask", "1h", utc(2026, 7, 1)) == "candles/hour/EUR-USD/ASK/2026/7"
    assert jetta_candle_path("BTC-USD", "bid", "1d", utc(2022, 1, 1)) == "candles/day/BTC-USD/BID/2022"


def test_periods_cover_the_half_open_range() -> None:
    assert periods_between(utc(2019, 2, 4, 0, 30), utc(2019, 2, 4, 3), "hour") == [
        utc(2019, 2, 4, 0), utc(2019, 2, 4, 1), utc(2019, 2, 4, 2)]
    assert periods_between(utc(2019, 11, 15), utc(2020, 2, 1), "month") == [
        utc(2019, 11, 1), utc(2019, 12, 1), utc(2020, 1, 1)]
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        periods_between(datetime(2019, 1, 1), utc(2019, 1, 2), "day")


def test_ticks_equal_dukascopy_node_expected_output(datafeed: Path, expected: Path) -> None:
    rows = json.loads((expected / "btcusd-tick-2023-02-20T12-2023-02-20T13.json").read_text())
    batch = DukascopySource(DirectoryFetcher(datafeed), api="legacy").fetch_ticks(
        "BTCUSD", utc(2023, 2, 20, 12), utc(2023, 2, 20, 13))
    assert len(rows) == len(batch.frame) == 8523
    assert epoch_ms(batch.frame["ts"]) == [r["timestamp"] for r in rows]
    assert batch.frame["ask"].tolist() == [r["askPrice"] for r in rows]
    assert batch.frame["bid"].tolist() == [r["bidPrice"] for r in rows]


def test_minute_bars_equal_dukascopy_node_expected_output(datafeed: Path, expected: Path) -> None:
    # dukascopy-node produced this file with volumes off, so its flat filter kept the 3 zero-volume bars.
    rows = json.loads((expected / "btcusd-m1-bid-2023-02-19-2023-02-20.json").read_text())
    mirror = DirectoryFetcher(datafeed)
    day = (utc(2023, 2, 19), utc(2023, 2, 20))
    frame = DukascopySource(mirror, api="legacy", drop_flats=False).fetch_bars("BTCUSD", "1m", *day).frame
    assert len(rows) == len(frame) == 1440
    assert epoch_ms(frame["ts"]) == [r["timestamp"] for r in rows]
    for column in ("open", "high", "low", "close"):
        assert frame[column].tolist() == [r[column] for r in rows]
    assert len(DukascopySource(mirror, api="legacy").fetch_bars("BTCUSD", "1m", *day).frame) == 1437


def test_day_bars_equal_dukascopy_node_expected_output_for_2022(datafeed: Path, expected: Path) -> None:
    rows = json.loads((expected / "btcusd-d1-bid-2022-01-01-2023-02-20.json").read_text())[:365]
    frame = DukascopySource(DirectoryFetcher(datafeed), api="legacy").fetch_bars(
        "BTCUSD", "1d", utc(2022, 1, 1), utc(2023, 1, 1)).frame
    assert len(frame) == 365
    assert epoch_ms(frame["ts"]) == [r["timestamp"] for r in rows]
    for column in ("open", "high", "low", "close"):
        assert frame[column].tolist() == [r[column] for r in rows]
    assert set(frame["timeframe"]) == {"1d"} and set(frame["source"]) == {"dukascopy"}


def test_ticks_are_cut_to_the_half_open_range(datafeed: Path) -> None:
    source = DukascopySource(DirectoryFetcher(datafeed), api="legacy")
    start, end = utc(2019, 2, 4, 0, 10), utc(2019, 2, 4, 0, 20)
    frame = source.fetch_ticks("EURUSD", start, end).frame
    assert frame["ts"].min() >= pd.Timestamp(start) and frame["ts"].max() < pd.Timestamp(end)
    whole = source.fetch_ticks("EURUSD", utc(2019, 2, 4), utc(2019, 2, 4, 1)).frame
    inside = whole[(whole["ts"] >= pd.Timestamp(start)) & (whole["ts"] < pd.Timestamp(end))]
    assert frame["ts"].tolist() == inside["ts"].tolist() and len(frame) > 0


def test_mid_bars_from_both_side_files(datafeed: Path) -> None:
    source = DukascopySource(DirectoryFetcher(datafeed), api="legacy", price_side="mid")
    batch = source.fetch_bars("EURUSD", "1m", utc(2019, 2, 4), utc(2019, 2, 4, 0, 1))
    first = batch.frame.iloc[0]
    assert first.open == pytest.approx((1.14543 + 1.14545) / 2, abs=1e-12)
    assert first.high == pytest.approx((1.14570 + 1.14574) / 2, abs=1e-12)
    assert first.volume == pytest.approx(695.63, abs=1e-4)
    assert sorted(raw.name for raw in batch.raw) == [
        "EURUSD/2019/01/04/ASK_candles_min_1.bi5", "EURUSD/2019/01/04/BID_candles_min_1.bi5"]


def test_four_hour_bars_roll_up_hour_candles(datafeed: Path) -> None:
    source = DukascopySource(DirectoryFetcher(datafeed), api="legacy")
    month = (utc(2019, 2, 1), utc(2019, 3, 1))
    hours = source.fetch_bars("EURUSD", "1h", *month).frame
    four = source.fetch_bars("EURUSD", "4h", *month).frame
    assert len(hours) == 672 - 192  # weekend flats dropped
    first_four = hours.iloc[:4]
    assert four.iloc[0][["open", "high", "low", "close"]].tolist() == [
        first_four.open.iloc[0], first_four.high.max(), first_four.low.min(), first_four.close.iloc[-1]]
    assert four.iloc[0].volume == pytest.approx(first_four.volume.sum())
    assert bool((four["ts"].dt.hour % 4 == 0).all())
    assert four["volume"].sum() == pytest.approx(hours["volume"].sum())


def test_five_minute_bars_start_inside_the_range(datafeed: Path) -> None:
    source = DukascopySource(DirectoryFetcher(datafeed), api="legacy")
    frame = source.fetch_bars("EURUSD", "5m", utc(2019, 2, 4, 0, 7), utc(2019, 2, 4, 0, 20)).frame
    assert [t.minute for t in frame["ts"]] == [10, 15]
    minutes = source.fetch_bars("EURUSD", "1m", utc(2019, 2, 4, 0, 10), utc(2019, 2, 4, 0, 15)).frame
    assert frame.iloc[0].high == minutes.high.max() and frame.iloc[0].close == minutes.close.iloc[-1]


def test_concurrent_fetch_keeps_time_order_and_the_in_flight_limit(datafeed: Path) -> None:
    fetcher = CountingFetcher(DirectoryFetcher(datafeed), hold_until_peak=3)
    source = DukascopySource(fetcher, api="legacy", max_in_flight=3)
    batch = source.fetch_ticks("EURUSD", utc(2019, 2, 4), utc(2019, 2, 5))
    assert fetcher.peak == 3
    assert len(fetcher.paths) == 24
    assert len(batch.frame) == 3733 + 7763 + 2354
    assert batch.frame["ts"].is_monotonic_increasing
    assert [raw.name for raw in batch.raw] == [f"EURUSD/2019/01/04/{h}h_ticks.bi5" for h in ("00", "13", "22")]


def test_cache_serves_files_already_fetched(datafeed: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    day = (utc(2019, 2, 4), utc(2019, 2, 5))
    first = DukascopySource(DirectoryFetcher(datafeed), api="legacy", cache_dir=cache).fetch_ticks("EURUSD", *day)
    assert (cache / "EURUSD/2019/01/04/13h_ticks.bi5.body").read_bytes() == (
        datafeed / "EURUSD/2019/01/04/13h_ticks.bi5").read_bytes()
    assert len(list(cache.rglob("*.body"))) == 3  # hours without data are not cached
    cached_only = DukascopySource(FailingFetcher(), api="legacy", cache_dir=cache)
    again = cached_only.fetch_ticks("EURUSD", utc(2019, 2, 4, 13), utc(2019, 2, 4, 14))
    assert again.frame["ts"].tolist() == first.frame[first.frame["ts"].dt.hour == 13]["ts"].tolist()
    with pytest.raises(TransientError, match="503"):
        cached_only.fetch_ticks("EURUSD", utc(2019, 2, 4, 1), utc(2019, 2, 4, 2))


def test_supports_and_bad_requests(datafeed: Path) -> None:
    source = DukascopySource(DirectoryFetcher(datafeed), api="legacy")
    assert source.supports("EURUSD", "tick") and source.supports("eur/usd", "4h")
    assert not source.supports("EURUSD", "3m")
    assert not source.supports("IBM", "1d")  # not carried by Dukascopy
    assert not source.supports("NOPE", "1d")
    with pytest.raises(ValueError, match="naive"):
        source.fetch_ticks("EURUSD", datetime(2019, 2, 4), utc(2019, 2, 5))
    with pytest.raises(ValueError, match="must be before end"):
        source.fetch_ticks("EURUSD", utc(2019, 2, 5), utc(2019, 2, 4))
    with pytest.raises(ValueError, match="unknown timeframe '3m'"):
        source.fetch_bars("EURUSD", "3m", utc(2019, 2, 4), utc(2019, 2, 5))
    with pytest.raises(ValueError, match="unknown instrument 'NOPE'"):
        source.fetch_ticks("NOPE", utc(2019, 2, 4), utc(2019, 2, 5))
    with pytest.raises(ValueError, match="unknown Dukascopy api 'ftp'"):
        DukascopySource(DirectoryFetcher(datafeed), api="ftp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_in_flight must be at least 1"):
        DukascopySource(DirectoryFetcher(datafeed), max_in_flight=0)


def test_other_timezones_are_converted_to_utc(datafeed: Path) -> None:
    paris = timezone(timedelta(hours=1))
    source = DukascopySource(DirectoryFetcher(datafeed), api="legacy")
    frame = source.fetch_ticks("EURUSD", datetime(2019, 2, 4, 1, tzinfo=paris), datetime(2019, 2, 4, 2, tzinfo=paris)).frame
    assert len(frame) == 3733
    assert str(frame["ts"].dt.tz) == "UTC"
    assert np.all(frame["ts"].dt.hour.to_numpy() == 0)


def test_zero_byte_files_of_closed_hours_are_no_data_and_of_open_hours_a_transient_error(
    datafeed: Path, tmp_path: Path
) -> None:
    """A mirror as the datafeed serves it: 0-byte files for the weekend, and one for an open Tuesday hour."""
    root = tmp_path / "datafeed"
    monday = root / "EURUSD/2019/01/04"
    monday.mkdir(parents=True)
    for hour in ("00", "13", "22"):
        (monday / f"{hour}h_ticks.bi5").write_bytes((datafeed / f"EURUSD/2019/01/04/{hour}h_ticks.bi5").read_bytes())
    weekend = [utc(2019, 2, 8, 22) + timedelta(hours=h) for h in range(48)]  # Fri 22:00 to Sun 22:00 UTC
    for hour in weekend + [utc(2019, 2, 5, 10), utc(2019, 2, 8, 21)]:
        path = root / legacy_tick_path("EURUSD", hour)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    pauses: list[float] = []
    fetcher = CountingFetcher(DirectoryFetcher(root))
    source = DukascopySource(fetcher, api="legacy", sleep=pauses.append)

    assert source.fetch_ticks("EURUSD", utc(2019, 2, 8, 22), utc(2019, 2, 10, 22)).frame.empty
    assert len(fetcher.paths) == 48 and pauses == []  # closed: each asked once
    assert len(source.fetch_ticks("EURUSD", utc(2019, 2, 4), utc(2019, 2, 5)).frame) == 3733 + 7763 + 2354

    fetcher.paths.clear()
    with pytest.raises(EmptyWhereDataExpectedError, match=r"EURUSD/2019/01/05/10h_ticks\.bi5$"):
        source.fetch_ticks("EURUSD", utc(2019, 2, 5, 10), utc(2019, 2, 5, 11))
    assert fetcher.paths == ["EURUSD/2019/01/05/10h_ticks.bi5"] * 3 and pauses == [0.5, 1.0]
    # Friday's last open hour empty, the closed hours after it too: only the open one is named.
    with pytest.raises(EmptyWhereDataExpectedError, match=r"3 times each: EURUSD/2019/01/08/21h_ticks\.bi5$"):
        source.fetch_ticks("EURUSD", utc(2019, 2, 8, 21), utc(2019, 2, 9, 2))


def test_on_its_last_try_a_fetch_takes_open_hours_that_stay_empty_as_no_data(tmp_path: Path) -> None:
    """The calendar knows no holidays: the caller's last attempt accepts the empty hour instead of failing."""
    root = tmp_path / "datafeed"
    path = root / legacy_tick_path("EURUSD", utc(2019, 12, 25, 10))  # a Wednesday, open by the calendar
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    pauses: list[float] = []
    fetcher = CountingFetcher(DirectoryFetcher(root))

    strict = DukascopySource(fetcher, api="legacy", sleep=pauses.append)
    with pytest.raises(EmptyWhereDataExpectedError):
        strict.fetch_ticks("EURUSD", utc(2019, 12, 25, 10), utc(2019, 12, 25, 11))
    last_try = DukascopySource(fetcher, api="legacy", sleep=pauses.append, accept_empty=True)
    batch = last_try.fetch_ticks("EURUSD", utc(2019, 12, 25, 10), utc(2019, 12, 25, 11))

    assert batch.frame.empty and (batch.source, batch.symbol, batch.timeframe) == ("dukascopy", "EURUSD", "tick")
    assert fetcher.paths == ["EURUSD/2019/11/25/10h_ticks.bi5"] * 6  # still asked three times on the last try
