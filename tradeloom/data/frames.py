"""The one bar schema and the one tick schema every source returns, and the batch that carries them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TS_DTYPE = "datetime64[ns, UTC]"

BAR_COLUMNS: dict[str, str] = {
    "symbol": "object",
    "timeframe": "object",
    "ts": TS_DTYPE,  # bar start, UTC; daily bars: midnight of the trading date
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "float64",
    "adj_close": "float64",  # NaN where the source has no adjusted close
    "source": "object",
}

TICK_COLUMNS: dict[str, str] = {
    "symbol": "object",
    "ts": TS_DTYPE,
    "bid": "float64",
    "ask": "float64",
    "bid_volume": "float64",
    "ask_volume": "float64",
    "source": "object",
}

ACTION_COLUMNS: dict[str, str] = {
    "symbol": "object",
    "ts": TS_DTYPE,  # the ex-date, midnight UTC of the exchange's date
    "kind": "object",  # "split" or "dividend"
    "value": "float64",  # split ratio (numerator / denominator) or dividend amount
    "description": "object",  # "4:1" for a split, "" for a dividend
    "source": "object",
}


def _conform(frame: pd.DataFrame, columns: dict[str, str], defaults: dict[str, object]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns and c not in defaults]
    if missing:
        raise ValueError(f"frame lacks required columns {missing}; has {list(frame.columns)}")
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for name, dtype in columns.items():
        values = frame[name].to_numpy() if name in frame.columns else defaults[name]
        if dtype == TS_DTYPE:
            out[name] = pd.to_datetime(values, utc=True).as_unit("ns") if len(frame) else pd.Series([], dtype=TS_DTYPE)
        elif dtype == "object":
            out[name] = pd.Series(values, dtype="object", index=out.index) if len(frame) else pd.Series([], dtype="object")
        else:
            out[name] = np.asarray(values, dtype=dtype) if len(frame) else np.array([], dtype=dtype)
    return out


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
