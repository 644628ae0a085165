"""The JSON API (jetta, ``https://jetta.dukascopy.com/v1``): delta-encoded ticks and candles.

Every array is a running delta: ``times`` from ``timestamp`` (ms for ticks, units of ``shift``
for candles), prices in integer units of ``multiplier`` from the first value given in the
header. Candles come in O,H,L,C order and omit flat (closed-market) bars; an empty period has
null prices and empty arrays. Tick volumes arrive in units and are converted here to the
legacy files' millions, so both APIs store the same raw Dukascopy volume.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tradeloom.data.aggregation import BarArrays
from tradeloom.data.sources.dukascopy.records import TickArrays
from tradeloom.errors import CorruptPayloadError

_MS_NS = 1_000_000
_UNITS_PER_MILLION = 1_000_000.0
_TICK_ARRAYS = ("times", "asks", "bids", "askVolumes", "bidVolumes")
_CANDLE_ARRAYS = ("times", "opens", "highs", "lows", "closes", "volumes")


def _load(body: bytes | dict[str, Any], name: str, arrays: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(body, dict):
        payload = body
    else:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptPayloadError(f"{name or 'payload'} is not JSON: {exc}", payload=bytes(body)) from None
    raw = body if isinstance(body, bytes) else None
    if not isinstance(payload, dict):
        raise CorruptPayloadError(f"{name or 'payload'} is JSON but not an object", payload=raw)
    missing = [key for key in ("timestamp", "multiplier", *arrays) if key not in payload]
    if missing:
        raise CorruptPayloadError(f"{name or 'payload'} lacks keys {missing}", payload=raw)
    lengths = {key: len(payload[key]) for key in arrays}
    if len(set(lengths.values())) != 1:
        raise CorruptPayloadError(f"{name or 'payload'} has arrays of different lengths {lengths}", payload=raw)
    return payload


def _divisor(multiplier: float, name: str) -> float:
    if not multiplier or multiplier <= 0:
        raise CorruptPayloadError(f"{name or 'payload'} has a bad multiplier {multiplier!r}")
    # 1e-05 -> 100000.0: dividing integer points by it gives exactly the legacy files' prices.
    return float(round(1.0 / multiplier))


def _running(first: float | None, deltas: list[int], divisor: float, key: str, name: str) -> np.ndarray:
    if first is None:
        raise CorruptPayloadError(f"{name or 'payload'} has data but a null base value for {key}")
    points = round(first * divisor) + np.cumsum(np.asarray(deltas, dtype="int64"))
    return points / divisor


def decode_jetta_ticks(body: bytes | dict[str, Any], name: str = "") -> TickArrays:
    """The ticks of one ``/ticks/{CODE}/{Y}/{M}/{D}/{H}`` response (bytes or parsed JSON)."""
    payload = _load(body, name, _TICK_ARRAYS)
    if not payload["times"]:
        return TickArrays.empty()
    divisor = _divisor(payload["multiplier"], name)
    ts_ms = int(payload["timestamp"]) + np.cumsum(np.asarray(payload["times"], dtype="int64"))
    return TickArrays(
        ts_ns=ts_ms * _MS_NS,
        bid=_running(payload.get("bid"), payload["bids"], divisor, "bid", name),
        ask=_running(payload.get("ask"), payload["asks"], divisor, "ask", name),
        bid_volume=np.asarray(payload["bidVolumes"], dtype="float64") / _UNITS_PER_MILLION,
        ask_volume=np.asarray(payload["askVolumes"], dtype="float64") / _UNITS_PER_MILLION,
    )


def decode_jetta_candles(body: bytes | dict[str, Any], name: str = "") -> BarArrays:
    """The bars present in one ``/candles/{minute|hour|day}/...`` response; flats are absent."""
    payload = _load(body, name, _CANDLE_ARRAYS)
    if not payload["times"]:
        return BarArrays.empty()
    if "shift" not in payload or not payload["shift"]:
        raise CorruptPayloadError(f"{name or 'payload'} has candles but no shift")
    divisor = _divisor(payload["multiplier"], name)
    slots = np.cumsum(np.asarray(payload["times"], dtype="int64"))
    ts_ms = int(payload["timestamp"]) + slots * int(payload["shift"])
    return BarArrays(
        ts_ns=ts_ms * _MS_NS,
        open=_running(payload.get("open"), payload["opens"], divisor, "open", name),
        high=_running(payload.get("high"), payload["highs"], divisor, "high", name),
        low=_running(payload.get("low"), payload["lows"], divisor, "low", name),
        close=_running(payload.get("close"), payload["closes"], divisor, "close", name),
        volume=np.asarray(payload["volumes"], dtype="float64"),
    )


def is_empty_jetta(body: bytes) -> bool:
    """True for an empty body or a JSON period without data (null prices, empty arrays)."""
    if not body.strip():
        return True
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(payload, dict) and payload.get("times") == []


def fill_flats(bars: BarArrays, shift_ns: int) -> BarArrays:
    """``bars`` with the slots the JSON API omitted between them re-inserted as flats at the previous close."""
    if len(bars) < 2:
        return bars
    slots = (bars.ts_ns - bars.ts_ns[0]) // shift_ns
    total = int(slots[-1]) + 1
    if total == len(bars):
        return bars
    ts_ns = bars.ts_ns[0] + np.arange(total, dtype="int64") * shift_ns
    present = np.zeros(total, dtype=bool)
    present[slots] = True
    # Each slot takes the values of the last present bar at or before it.
    source = np.maximum.accumulate(np.where(present, np.arange(total), 0))
    filled_index = np.searchsorted(slots, source)
    close = bars.close[filled_index]
    def pick(column: np.ndarray) -> np.ndarray:
        return np.where(present, column[filled_index], close)
    return BarArrays(
        ts_ns=ts_ns, open=pick(bars.open), high=pick(bars.high), low=pick(bars.low), close=close,
        volume=np.where(present, bars.volume[filled_index], 0.0),
    )
