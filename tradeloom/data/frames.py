"""The one bar schema and the one tick schema every source returns, and the batch that carries them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

TS_DTYPE = "datetime64[ns, UTC]"
LABEL_DTYPE = "str"  # pandas' own string dtype (the default for text since pandas 3)

BAR_COLUMNS: dict[str, str] = {
    "symbol": LABEL_DTYPE,
    "timeframe": LABEL_DTYPE,
    "ts": TS_DTYPE,  # bar start, UTC; daily bars: midnight of the trading date
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "float64",
    "adj_close": "float64",  # NaN where the source has no adjusted close
    "source": LABEL_DTYPE,
}

TICK_COLUMNS: dict[str, str] = {
    "symbol": LABEL_DTYPE,
    "ts": TS_DTYPE,
    "bid": "float64",
    "ask": "float64",
    "bid_volume": "float64",
    "ask_volume": "float64",
    "source": LABEL_DTYPE,
}

ACTION_COLUMNS: dict[str, str] = {
    "symbol": LABEL_DTYPE,
    "ts": TS_DTYPE,  # the ex-date, midnight UTC of the exchange's date
    "kind": LABEL_DTYPE,  # "split" or "dividend"
    "value": "float64",  # split ratio (numerator / denominator) or dividend amount
    "description": LABEL_DTYPE,  # "4:1" for a split, "" for a dividend
    "source": LABEL_DTYPE,
}


def _conform(frame: pd.DataFrame, columns: dict[str, str], defaults: dict[str, object]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns and c not in defaults]
    if missing:
        raise ValueError(f"frame lacks required columns {missing}; has {list(frame.columns)}")
    frame = frame.reset_index(drop=True)  # copy-on-write: no data is copied here
    out: dict[str, object] = {}
    for name, dtype in columns.items():
        if name not in frame.columns:
            value = defaults[name]
            out[name] = pd.Series(value, index=frame.index, dtype="float64" if dtype == "float64" else dtype)
        elif str(frame[name].dtype) == dtype:
            out[name] = frame[name]  # already conforming: shared, not copied
        elif dtype == TS_DTYPE:
            out[name] = pd.to_datetime(frame[name], utc=True).dt.as_unit("ns")
        elif dtype == LABEL_DTYPE:
            out[name] = frame[name].astype(LABEL_DTYPE)
        else:
            out[name] = frame[name].astype(dtype)
    return pd.DataFrame(out, copy=False)


def constant_labels(value: str, length: int) -> pd.api.extensions.ExtensionArray:
    """``value`` repeated ``length`` times as a label column (dtype ``str``), built without a Python object per row."""
    data = value.encode("utf-8")
    # One Arrow string array from two buffers: every row's offset is a multiple of the value's length.
    offsets = np.arange(length + 1, dtype=np.int64) * len(data)
    array = pa.Array.from_buffers(pa.large_string(), length, [None, pa.py_buffer(offsets), pa.py_buffer(data * length)])
    return pd.array(array, dtype=LABEL_DTYPE)


def bars_frame(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` conformed to the bar schema (column order and dtypes); empty when None."""
    frame = pd.DataFrame(columns=list(BAR_COLUMNS)) if frame is None else frame
    return _conform(frame, BAR_COLUMNS, {"adj_close": np.nan})


def ticks_frame(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` conformed to the tick schema; empty when None."""
    frame = pd.DataFrame(columns=list(TICK_COLUMNS)) if frame is None else frame
    return _conform(frame, TICK_COLUMNS, {})


def actions_frame(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` conformed to the corporate-action schema; empty when None."""
    frame = pd.DataFrame(columns=list(ACTION_COLUMNS)) if frame is None else frame
    return _conform(frame, ACTION_COLUMNS, {"description": ""})


@dataclass(frozen=True)
class RawPayload:
    """One payload as the vendor sent it, kept so a quarantined batch can be inspected."""

    name: str  # the URL path or mirror path it came from, secrets excluded
    body: bytes


@dataclass(frozen=True)
class Batch:
    """What one fetch produced: bars or ticks for one symbol and timeframe, from one source."""

    source: str
    symbol: str
    timeframe: str  # "tick" for tick batches
    frame: pd.DataFrame
    raw: tuple[RawPayload, ...] = ()
    actions: pd.DataFrame = field(default_factory=actions_frame)

    @property
    def is_ticks(self) -> bool:
        """True for a tick batch."""
        return self.timeframe == "tick"
