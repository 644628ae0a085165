"""The JSON API's delta-encoded payloads, against the real responses in fixtures/dukascopy/jetta-json-api."""

from __future__ import annotations

import json
import lzma
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from tradeloom.data.sources.dukascopy import DukascopySource, decode_candles, decode_jetta_candles, decode_jetta_ticks
from tradeloom.data.sources.dukascopy.jetta import fill_flats
from tradeloom.data.sources.transport import DirectoryFetcher
from tradeloom.errors import CorruptPayloadError

MINUTE_NS = 60_000_000_000


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def after_the_fixtures() -> datetime:
    """A fixed clock after every recorded period (SPECS.md's date): all of them are completed."""
    return utc(2026, 11, 21)


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


@pytest.fixture
def jetta(fixtures: Path) -> Path:
    return fixtures / "dukascopy" / "jetta-json-api"


@pytest.fixture
def mirror(jetta: Path, tmp_path: Path) -> Path:
    """A local mirror of https://jetta.dukascopy.com/v1 holding the recorded responses at their URL paths."""
    root = tmp_path / "v1"
    layout = {
        "ticks-EUR-USD-2026-7-13-12.json": "ticks/EUR-USD/2026/7/13/12",
        "candles-minute-EUR-USD-BID-2026-7-10.json": "candles/minute/EUR-USD/BID/2026/7/10",
        "candles-minute-EUR-USD-BID-2026-7-11-empty.json": "candles/minute/EUR-USD/BID/2026/7/11",
        "candles-day-BTC-USD-BID-2022.json": "candles/day/BTC-USD/BID/2022",
    }
    for name, path in layout.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes((jetta / name).read_bytes())
    return root


def test_tick_deltas(jetta: Path) -> None:
    ticks = decode_jetta_ticks((jetta / "ticks-EUR-USD-2026-7-13-12.json").read_bytes())
    assert len(ticks) == 3551
    assert ticks.ts_ns[0] == ns(utc(2026, 7, 13, 12)) + 93_000_000
    assert (ticks.ask[0], ticks.bid[0]) == (1.14277, 1.14273)
    # Volumes arrive in units; stored as millions like the legacy files (1800000 -> 1.8).
    assert (ticks.ask_volume[0], ticks.bid_volume[0]) == (1.8, 2.7)
    # Second tick: +104 ms, ask -2 points, bid -2 points.
    assert ticks.ts_ns[1] - ticks.ts_ns[0] == 104_000_000
    assert (ticks.ask[1], ticks.bid[1]) == (1.14275, 1.14271)
    assert bool(np.all(np.diff(ticks.ts_ns) >= 0))
    assert ticks.ts_ns[-1] < ns(utc(2026, 7, 13, 13))


def test_minute_candles_omit_flats(jetta: Path) -> None:
    bars = decode_jetta_candles((jetta / "candles-minute-EUR-USD-BID-2026-7-10.json").read_bytes())
    assert len(bars) == 1258
    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0], bars.volume[0]) == (
        1.14331, 1.14334, 1.14322, 1.14324, 197.1)
    assert bars.ts_ns[0] == ns(utc(2026, 7, 10))
    assert bars.ts_ns[-1] == ns(utc(2026, 7, 10, 20, 59))
    gaps = np.flatnonzero(np.diff(bars.ts_ns) > MINUTE_NS)
    assert gaps.tolist() == [1237]
    filled = fill_flats(bars, MINUTE_NS)
    assert len(filled) == 1260
    assert filled.volume[1238:1240].tolist() == [0.0, 0.0]
    assert filled.open[1238:1240].tolist() == [bars.close[1237]] * 2
    assert filled.high[1238] == filled.low[1238] == filled.close[1238] == bars.close[1237]


def test_empty_period_is_empty(jetta: Path) -> None:
    assert len(decode_jetta_candles((jetta / "candles-minute-EUR-USD-BID-2026-7-11-empty.json").read_bytes())) == 0


def test_btc_day_candles_equal_the_bi5_year_file_except_the_revised_day(fixtures: Path, jetta: Path) -> None:
    json_bars = decode_jetta_candles((jetta / "candles-day-BTC-USD-BID-2022.json").read_bytes())
    bi5 = (fixtures / "dukascopy/datafeed/BTCUSD/2022/BID_candles_day_1.bi5").read_bytes()
    legacy = decode_candles(bi5, int(utc(2022, 1, 1).timestamp() * 1000), 10)
    assert len(json_bars) == len(legacy) == 365
    assert json_bars.ts_ns.tolist() == legacy.ts_ns.tolist()
    differs = np.zeros(365, dtype=bool)
    for column in ("open", "high", "low", "close"):
        differs |= getattr(json_bars, column) != getattr(legacy, column)
    assert np.flatnonzero(differs).tolist() == [290]
    assert legacy.ts_ns[290] == ns(utc(2022, 10, 18))
    same = ~differs
    # JSON volumes carry 6 decimals and a few moved slightly since the .bi5 was recorded.
    np.testing.assert_allclose(json_bars.volume[same], legacy.volume[same], rtol=0, atol=2e-5)
    assert json_bars.volume[290] == 0.1287 and legacy.volume[290] == pytest.approx(0.034162, abs=1e-7)


def test_source_reads_the_json_api_mirror(mirror: Path) -> None:
    source = DukascopySource(DirectoryFetcher(mirror), api="json", now=after_the_fixtures)
    ticks = source.fetch_ticks("EURUSD", utc(2026, 7, 13, 12), utc(2026, 7, 13, 13))
    assert len(ticks.frame) == 3551
    assert [raw.name for raw in ticks.raw] == ["ticks/EUR-USD/2026/7/13/12"]
    bars = source.fetch_bars("EURUSD", "1m", utc(2026, 7, 10), utc(2026, 7, 12))
    assert len(bars.frame) == 1258  # Friday's bars; Saturday is an empty period
    assert bars.frame["ts"].iloc[-1] == utc(2026, 7, 10, 20, 59)
    hourly = source.fetch_bars("EURUSD", "1h", utc(2026, 7, 10), utc(2026, 7, 11))
    assert hourly.frame.empty  # no hour file in the mirror: 404 is no data
    days = source.fetch_bars("BTCUSD", "1d", utc(2022, 1, 1), utc(2023, 1, 1))
    assert len(days.frame) == 365
    assert days.frame.iloc[0][["open", "high", "low", "close"]].tolist() == [46974.0, 47875.5, 46806.1, 47676.4]


def test_source_refills_flats_when_asked(mirror: Path) -> None:
    source = DukascopySource(DirectoryFetcher(mirror), api="json", drop_flats=False, now=after_the_fixtures)
    bars = source.fetch_bars("EURUSD", "1m", utc(2026, 7, 10), utc(2026, 7, 11))
    assert len(bars.frame) == 1260


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>busy</html>", "is not JSON"),
        (b"[1, 2]", "not an object"),
        (json.dumps({"timestamp": 0, "multiplier": 1e-5, "times": [1]}).encode(), "lacks keys"),
        (json.dumps({"timestamp": 0, "multiplier": 1e-5, "ask": 1.0, "bid": 1.0, "times": [1, 2], "asks": [0],
                     "bids": [0], "askVolumes": [1], "bidVolumes": [1]}).encode(), "different lengths"),
        (lzma.compress(b"x", format=lzma.FORMAT_ALONE), "is not JSON"),
    ],
)
def test_bad_json_payloads_are_corrupt(body: bytes, message: str) -> None:
    with pytest.raises(CorruptPayloadError, match=message) as caught:
        decode_jetta_ticks(body, "ticks/EUR-USD/2026/7/13/12")
    assert caught.value.payload == body
