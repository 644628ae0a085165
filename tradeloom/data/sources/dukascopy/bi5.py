"""The legacy datafeed's ``.bi5`` files: LZMA-alone streams of big-endian fixed-size records.

Ticks are ``>3i2f`` (ms since the hour, ask, bid, ask volume, bid volume: ask before bid);
candles are ``>5i1f`` (seconds since the period start, open, close, low, high, volume: O,C,L,H).
Prices are integer points divided by the instrument's divisor; volumes stay as Dukascopy
sends them (float32 millions of base units for FX). Decoding is one ``np.frombuffer`` over
all records of a range, never a Python loop per record.
"""

from __future__ import annotations

import lzma
from typing import Sequence

import numpy as np

from tradeloom.data.aggregation import BarArrays
from tradeloom.data.sources.dukascopy.records import TickArrays
from tradeloom.errors import CorruptPayloadError

# Properties byte 0x5D (lc=3, lp=0, pb=2) then a 4 MiB dictionary, little-endian.
LZMA_ALONE_PREFIX = b"\x5d\x00\x00\x40\x00"
LZMA_ALONE_HEADER_SIZE = 13

TICK_RECORD = np.dtype(
    [("ms", ">u4"), ("ask", ">i4"), ("bid", ">i4"), ("ask_volume", ">f4"), ("bid_volume", ">f4")]
)
CANDLE_RECORD = np.dtype(
    [("seconds", ">u4"), ("open", ">i4"), ("close", ">i4"), ("low", ">i4"), ("high", ">i4"), ("volume", ">f4")]
)
_HOUR_MS = 3_600_000
_MS_NS = 1_000_000


def check_lzma_alone(body: bytes, name: str) -> None:
    """Raise CorruptPayloadError unless ``body`` starts with Dukascopy's LZMA-alone header."""
    if len(body) < LZMA_ALONE_HEADER_SIZE or not body.startswith(LZMA_ALONE_PREFIX):
        raise CorruptPayloadError(
            f"{name or 'payload'} is not an LZMA-alone .bi5 stream (expected header 5d 00 00 40 00, "
            f"got {len(body)} bytes starting {body[:16]!r})",
            payload=body,
        )


def decompress_bi5(body: bytes, name: str = "") -> bytes:
    """The raw records of a ``.bi5`` body; ``b""`` for an empty body (no data); CorruptPayloadError if not LZMA."""
    if not body:
        return b""
    check_lzma_alone(body, name)
    try:
        return lzma.decompress(body, format=lzma.FORMAT_ALONE)
    except lzma.LZMAError as exc:
        raise CorruptPayloadError(f"{name or 'payload'} failed to decompress: {exc}", payload=body) from None


def _records(raw: Sequence[bytes], record: np.dtype, names: Sequence[str] | None) -> tuple[np.ndarray, list[int]]:
    counts: list[int] = []
    for index, chunk in enumerate(raw):
        if len(chunk) % record.itemsize:
            name = names[index] if names else f"file {index}"
            raise CorruptPayloadError(
                f"{name}: {len(chunk)} decompressed bytes is not a whole number of {record.itemsize}-byte records",
                payload=bytes(chunk),
            )
        counts.append(len(chunk) // record.itemsize)
    joined = raw[0] if len(raw) == 1 else b"".join(raw)
    return np.frombuffer(joined, dtype=record), counts


def ticks_from_records(
    raw: Sequence[bytes], hour_starts_ms: Sequence[int], divisor: float, names: Sequence[str] | None = None
) -> TickArrays:
    """Ticks from decompressed hour files ``raw`` (one per entry of ``hour_starts_ms``, UTC epoch ms)."""
    if len(raw) != len(hour_starts_ms):
        raise ValueError(f"{len(raw)} tick files but {len(hour_starts_ms)} hour starts")
    if not raw:
        return TickArrays.empty()
    records, counts = _records(raw, TICK_RECORD, names)
    # One byte swap of all five 4-byte fields at once, then native views: cheaper than converting
    # each big-endian field on its own.
    words = records.view(">u4").reshape(-1, 5).astype("<u4")
    offsets = words[:, 0]
    if len(offsets) and int(offsets.max()) >= _HOUR_MS:
        raise CorruptPayloadError(f"tick offset {int(offsets.max())} ms lies beyond its hour")
    base = np.repeat(np.asarray(hour_starts_ms, dtype="int64"), counts)
    ts_ns = (base + offsets) * _MS_NS
    prices = words[:, 1:3].view("<i4")  # ask, bid
    volumes = words[:, 3:5].view("<f4")  # ask volume, bid volume
    return TickArrays(
        ts_ns=ts_ns,
        bid=prices[:, 1] / divisor,
        ask=prices[:, 0] / divisor,
        bid_volume=volumes[:, 1].astype("float64"),
        ask_volume=volumes[:, 0].astype("float64"),
    )


def decode_ticks(body: bytes, hour_start_ms: int, divisor: float, name: str = "") -> TickArrays:
    """The ticks of one ``{HH}h_ticks.bi5`` body whose hour starts at ``hour_start_ms`` (UTC epoch ms)."""
    return ticks_from_records([decompress_bi5(body, name)], [hour_start_ms], divisor, [name] if name else None)


def candles_from_records(
    raw: Sequence[bytes], period_starts_ms: Sequence[int], divisor: float, names: Sequence[str] | None = None
) -> BarArrays:
    """Bars from decompressed candle files ``raw`` (one per entry of ``period_starts_ms``, UTC epoch ms)."""
    if len(raw) != len(period_starts_ms):
        raise ValueError(f"{len(raw)} candle files but {len(period_starts_ms)} period starts")
    if not raw:
        return BarArrays.empty()
    records, counts = _records(raw, CANDLE_RECORD, names)
    base = np.repeat(np.asarray(period_starts_ms, dtype="int64"), counts)
    ts_ns = (base + records["seconds"].astype("int64") * 1000) * _MS_NS
    return BarArrays(
        ts_ns=ts_ns,
        open=records["open"] / divisor,
        high=records["high"] / divisor,
        low=records["low"] / divisor,
        close=records["close"] / divisor,
        volume=records["volume"].astype("float64"),
    )


def decode_candles(body: bytes, period_start_ms: int, divisor: float, name: str = "") -> BarArrays:
    """The bars of one ``{BID|ASK}_candles_{min|hour|day}_1.bi5`` body starting at ``period_start_ms``."""
    return candles_from_records([decompress_bi5(body, name)], [period_start_ms], divisor, [name] if name else None)
