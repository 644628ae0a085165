"""Dukascopy: the legacy .bi5 datafeed and the JSON API (jetta), decoded with numpy."""

from tradeloom.data.sources.dukascopy.bi5 import (
    candles_from_records,
    decode_candles,
    decode_ticks,
    decompress_bi5,
    ticks_from_records,
)
from tradeloom.data.sources.dukascopy.jetta import decode_jetta_candles, decode_jetta_ticks
from tradeloom.data.sources.dukascopy.loading import EmptyWhereDataExpectedError
from tradeloom.data.sources.dukascopy.records import TickArrays, ticks_to_frame
from tradeloom.data.sources.dukascopy.source import DukascopySource

__all__ = [
    "DukascopySource",
    "EmptyWhereDataExpectedError",
    "TickArrays",
    "candles_from_records",
    "decode_candles",
    "decode_jetta_candles",
    "decode_jetta_ticks",
    "decode_ticks",
    "decompress_bi5",
    "ticks_from_records",
    "ticks_to_frame",
]
