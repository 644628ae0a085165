"""Legacy .bi5 decoding against the real recorded files and the values in fixtures/SOURCES.md."""

from __future__ import annotations

import lzma
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from tradeloom.data.sources.dukascopy import (
    DukascopySource,
    candles_from_records,
    decode_candles,
    decode_ticks,
    decompress_bi5,
    ticks_from_records,
)
from tradeloom.data.sources.transport import DirectoryFetcher
from tradeloom.errors import CorruptPayloadError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def datafeed(fixtures: Path) -> Path:
    return fixtures / "dukascopy" / "datafeed"


def test_eurusd_hour_of_ticks(datafeed: Path) -> None:
    body = (datafeed / "EURUSD/2019/01/04/00h_ticks.bi5").read_bytes()
    ticks = decode_ticks(body, ms(utc(2019, 2, 4)), 100_000)
    assert len(ticks) == 3733
    assert ticks.ts_ns[0] == ms(utc(2019, 2, 4)) * 1_000_000 + 994_000_000
    assert (ticks.ask[0], ticks.bid[0], ticks.ask_volume[0]) == (1.14545, 1.14543, 1.0)
    assert ticks.bid_volume[0] == pytest.approx(2.06, abs=1e-6)
    assert (ticks.ask[1], ticks.bid[1]) == (1.14546, 1.14544)
    assert ticks.ts_ns[-1] == ms(utc(2019, 2, 4, 0, 59, 59)) * 1_000_000 + 808_000_000
    assert (ticks.ask[-1], ticks.bid[-1]) == (1.14559, 1.14555)


@pytest.mark.parametrize(
    ("path", "hour", "count", "first_offset_ms", "first_ask", "first_bid"),
    [
        ("EURUSD/2019/01/04/13h_ticks.bi5", utc(2019, 2, 4, 13), 7763, 92, 1.14476, 1.14475),
        ("EURUSD/2019/01/04/22h_ticks.bi5", utc(2019, 2, 4, 22), 2354, 66, 1.14394, 1.14353),
        ("GBPJPY/2012/11/03/00h_ticks.bi5", utc(2012, 12, 3, 0), 2054, 1883, 132.158, 132.141),
        ("GBPJPY/2012/11/03/01h_ticks.bi5", utc(2012, 12, 3, 1), 2484, 3581, 131.966, 131.945),
        ("BTCUSD/2023/01/20/12h_ticks.bi5", utc(2023, 2, 20, 12), 8523, 84, 24921.5, 24849.4),
    ],
)
def test_tick_files_through_the_source(
    datafeed: Path, path: str, hour: datetime, count: int, first_offset_ms: int, first_ask: float, first_bid: float
) -> None:
    """Decoded through DukascopySource on a mirror: counts, first ticks, and the per-instrument divisors."""
    source = DukascopySource(DirectoryFetcher(datafeed), api="legacy")
    symbol = path.split("/")[0]
    batch = source.fetch_ticks(symbol, hour, hour.replace(hour=hour.hour + 1))
    assert (batch.source, batch.symbol, batch.timeframe) == ("dukascopy", symbol, "tick")
    assert len(batch.frame) == count
    first = batch.frame.iloc[0]
    assert first.ts.value == ms(hour) * 1_000_000 + first_offset_ms * 1_000_000
    assert (first.ask, first.bid) == (first_ask, first_bid)
    assert [raw.name for raw in batch.raw] == [path]
    assert batch.raw[0].body == (datafeed / path).read_bytes()


def test_decompressed_gbpjpy_equals_the_reference_raw_file(fixtures: Path, datafeed: Path) -> None:
    raw = decompress_bi5((datafeed / "GBPJPY/2012/11/03/00h_ticks.bi5").read_bytes())
    reference = (fixtures / "dukascopy/raw-decompressed/GBPJPY/2012/11/03/00h_ticks.bin").read_bytes()
    assert raw == reference
    assert len(raw) // 20 == 2054


def test_ticks_of_several_hours_keep_time_order(datafeed: Path) -> None:
    hours = [utc(2012, 12, 3, 0), utc(2012, 12, 3, 1)]
    raw = [decompress_bi5((datafeed / f"GBPJPY/2012/11/03/{h.hour:02d}h_ticks.bi5").read_bytes()) for h in hours]
    ticks = ticks_from_records(raw, [ms(h) for h in hours], 1000)
    assert len(ticks) == 2054 + 2484
    assert bool(np.all(np.diff(ticks.ts_ns) >= 0))
    assert ticks.ask[2054] == 131.966


def test_minute_candles_are_open_close_low_high(datafeed: Path) -> None:
    bars = decode_candles((datafeed / "EURUSD/2019/01/04/BID_candles_min_1.bi5").read_bytes(), ms(utc(2019, 2, 4)),
                          100_000)
    assert len(bars) == 1440
    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0]) == (1.14543, 1.14570, 1.14542, 1.14569)
    assert bars.volume[0] == pytest.approx(293.76, abs=1e-4)
    assert (bars.open[1], bars.high[1], bars.low[1], bars.close[1]) == (1.14569, 1.14580, 1.14565, 1.14575)
    assert bars.ts_ns[1] - bars.ts_ns[0] == 60_000_000_000
    assert int(np.sum(bars.volume == 0)) == 0


@pytest.mark.parametrize(
    ("path", "start", "count", "zero_volume"),
    [
        ("EURUSD/2019/01/BID_candles_hour_1.bi5", utc(2019, 2, 1), 672, 192),
        ("EURUSD/2019/01/ASK_candles_hour_1.bi5", utc(2019, 2, 1), 672, 192),
        ("EURUSD/2019/BID_candles_day_1.bi5", utc(2019, 1, 1), 365, 52),
        ("EURUSD/2019/ASK_candles_day_1.bi5", utc(2019, 1, 1), 365, 52),
        ("EURUSD/2020/04/01/BID_candles_min_1.bi5", utc(2020, 5, 1), 1440, 180),
        ("BTCUSD/2022/BID_candles_day_1.bi5", utc(2022, 1, 1), 365, 0),
        ("BTCUSD/2023/01/19/BID_candles_min_1.bi5", utc(2023, 2, 19), 1440, 3),
    ],
)
def test_candle_file_counts_and_flats(datafeed: Path, path: str, start: datetime, count: int, zero_volume: int) -> None:
    divisor = 10 if path.startswith("BTC") else 100_000
    bars = decode_candles((datafeed / path).read_bytes(), ms(start), divisor)
    assert len(bars) == count
    assert int(np.sum(bars.volume == 0)) == zero_volume
    assert bars.ts_ns[0] == ms(start) * 1_000_000


def test_first_hour_and_day_candles(datafeed: Path) -> None:
    hour = decode_candles((datafeed / "EURUSD/2019/01/BID_candles_hour_1.bi5").read_bytes(), ms(utc(2019, 2, 1)),
                          100_000)
    assert (hour.open[0], hour.close[0], hour.low[0], hour.high[0]) == (1.14482, 1.14481, 1.14462, 1.14499)
    assert hour.volume[0] == pytest.approx(6718.49, abs=1e-3)
    day = decode_candles((datafeed / "EURUSD/2019/BID_candles_day_1.bi5").read_bytes(), ms(utc(2019, 1, 1)), 100_000)
    assert (day.open[1], day.close[1], day.low[1], day.high[1]) == (1.14612, 1.13121, 1.13092, 1.14967)
    btc = decode_candles((datafeed / "BTCUSD/2022/BID_candles_day_1.bi5").read_bytes(), ms(utc(2022, 1, 1)), 10)
    assert (btc.open[0], btc.high[0], btc.low[0], btc.close[0]) == (46974.0, 47875.5, 46806.1, 47676.4)


def test_flat_bars_after_the_friday_close_are_dropped_by_default(datafeed: Path) -> None:
    mirror = DirectoryFetcher(datafeed)
    day = (utc(2020, 5, 1), utc(2020, 5, 2))
    kept = DukascopySource(mirror, api="legacy", drop_flats=False).fetch_bars("EURUSD", "1m", *day).frame
    dropped = DukascopySource(mirror, api="legacy").fetch_bars("EURUSD", "1m", *day).frame
    assert len(kept) == 1440
    assert len(dropped) == 1260
    tail = kept.iloc[-180:]
    assert set(tail[["open", "high", "low", "close"]].to_numpy().ravel().tolist()) == {1.09777}
    assert set(tail["volume"].tolist()) == {0.0}
    assert tail["ts"].iloc[0] == dropped["ts"].iloc[-1] + (kept["ts"].iloc[1] - kept["ts"].iloc[0])
    assert bool((dropped["volume"] > 0).all())


def test_empty_body_is_no_data_and_is_not_decompressed(datafeed: Path) -> None:
    assert decompress_bi5((datafeed / "empty.bi5").read_bytes()) == b""
    assert len(decode_ticks(b"", 0, 100_000)) == 0


def test_html_page_is_a_corrupt_payload_never_data() -> None:
    page = b"<!DOCTYPE html><html><title>Attention Required! | Cloudflare</title></html>"
    with pytest.raises(CorruptPayloadError, match="EURUSD/x.bi5 is not an LZMA-alone") as caught:
        decompress_bi5(page, "EURUSD/x.bi5")
    assert caught.value.payload == page


def test_truncated_lzma_stream_is_corrupt(datafeed: Path) -> None:
    body = (datafeed / "EURUSD/2019/01/04/00h_ticks.bi5").read_bytes()
    with pytest.raises(CorruptPayloadError, match="failed to decompress"):
        decompress_bi5(body[: len(body) // 2], "00h_ticks.bi5")


def alone(raw: bytes) -> bytes:
    """``raw`` compressed the way Dukascopy does: LZMA-alone, lc=3 lp=0 pb=2, 4 MiB dictionary."""
    lzma1 = {"id": lzma.FILTER_LZMA1, "dict_size": 1 << 22, "lc": 3, "lp": 0, "pb": 2}
    return lzma.compress(raw, format=lzma.FORMAT_ALONE, filters=[lzma1])


def test_partial_record_is_corrupt() -> None:
    body = alone(b"\x00" * 30)
    with pytest.raises(CorruptPayloadError, match="30 decompressed bytes is not a whole number of 20-byte records"):
        decode_ticks(body, 0, 100_000, "h.bi5")
    with pytest.raises(CorruptPayloadError, match="24-byte records"):
        candles_from_records([b"\x00" * 30], [0], 100_000, ["c.bi5"])
