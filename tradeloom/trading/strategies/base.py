"""The strategy interface: bars in, vectorised signals out, then one decision per bar.

Engine semantics (the engine relies on them): a signal at bar ``t`` is computed from
``bars[:t+1]`` only and is acted on at bar ``t+1``'s open. ``entry`` asks to be long (+1)
or short (-1); ``exit`` asks to leave whatever position is held. When both are set on
one bar the entry wins: the position is reversed (or kept, if it already has that side).
A strategy never pyramids: an entry in the direction already held changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


def _frozen(values: np.ndarray, dtype: type) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"expected a one-dimensional array, got shape {array.shape}")
    array.setflags(write=False)
    return array


def _ts_ns(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy(dtype=np.int64)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        stamps = pd.DatetimeIndex(column)
        stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
    else:
        try:
            stamps = pd.DatetimeIndex(pd.to_datetime(column, utc=True))
        except (ValueError, TypeError) as error:
            raise ValueError(f"column 'ts' is neither integer nanoseconds nor datetimes: {error}") from error
    if stamps.hasnans:
        raise ValueError("column 'ts' has missing timestamps")
    return stamps.as_unit("ns").asi8


@dataclass(frozen=True, eq=False)
class Bars:
    """OHLCV bars as read-only arrays; ``ts`` is the bar start in UTC nanoseconds."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", _frozen(self.ts, np.int64))
        for name in _PRICE_COLUMNS:
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64))
        n = len(self.ts)
        for name in _PRICE_COLUMNS:
            values = getattr(self, name)
            if len(values) != n:
                raise ValueError(f"bars column {name!r} has {len(values)} values, ts has {n}")
            if not np.isfinite(values).all():
                bad = int(np.flatnonzero(~np.isfinite(values))[0])
                raise ValueError(f"bars column {name!r} is not finite at index {bad}")
        if n > 1 and not (np.diff(self.ts) > 0).all():
            bad = int(np.flatnonzero(np.diff(self.ts) <= 0)[0]) + 1
            raise ValueError(f"bar timestamps must be strictly increasing; index {bad} is not")
        if (self.high < self.low).any():
            bad = int(np.flatnonzero(self.high < self.low)[0])
            raise ValueError(f"bar {bad} has high {self.high[bad]} below low {self.low[bad]}")

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Bars:
        """Bars from a frame with columns ts (datetimes, ISO strings or int ns), open, high, low, close, volume."""
        missing = [c for c in ("ts", *_PRICE_COLUMNS) if c not in frame.columns]
        if missing:
            raise ValueError(f"bars frame lacks columns {missing}; has {list(frame.columns)}")
        return cls(
            ts=_ts_ns(frame["ts"]),
            **{name: frame[name].to_numpy(dtype=np.float64) for name in _PRICE_COLUMNS},
        )

    def __len__(self) -> int:
        return len(self.ts)

    def slice(self, stop: int) -> Bars:
        """The first ``stop`` bars (``bars[:stop]``), sharing memory with these."""
        if stop < 0:
            raise ValueError(f"slice stop must be >= 0, got {stop}")
        return Bars(self.ts[:stop], self.open[:stop], self.high[:stop], self.low[:stop], self.close[:stop], self.volume[:stop])

    def to_frame(self) -> pd.DataFrame:
        """The bars as a frame with a UTC datetime ``ts`` column."""
        frame = pd.DataFrame({name: getattr(self, name) for name in _PRICE_COLUMNS})
        frame.insert(0, "ts", pd.to_datetime(self.ts, utc=True))
        return frame


@dataclass(frozen=True, eq=False)
class Signals:
    """Per-bar signals: ``entry`` (+1 long, -1 short, 0 none), ``exit`` (leave the position), ``confidence`` in [0, 1]."""

    entry: np.ndarray
    exit: np.ndarray
    confidence: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "entry", _frozen(self.entry, np.int8))
        object.__setattr__(self, "exit", _frozen(self.exit, np.bool_))
        object.__setattr__(self, "confidence", _frozen(self.confidence, np.float64))
        n = len(self.entry)
        if len(self.exit) != n or len(self.confidence) != n:
            raise ValueError(
                f"signal arrays differ in length: entry {n}, exit {len(self.exit)}, confidence {len(self.confidence)}"
            )
        if not np.isin(self.entry, (-1, 0, 1)).all():
            raise ValueError("entry signals must be -1, 0 or +1")
        if not ((self.confidence >= 0.0) & (self.confidence <= 1.0)).all():
            raise ValueError("confidence must lie in [0, 1] (and not be NaN)")

    def __len__(self) -> int:
        return len(self.entry)

    @classmethod
    def none(cls, n: int) -> Signals:
        """``n`` bars without any signal."""
        return cls(np.zeros(n, np.int8), np.zeros(n, np.bool_), np.zeros(n, np.float64))


class PositionSide(IntEnum):
    """The position a decision asks for."""

    SHORT = -1
    FLAT = 0
    LONG = 1


@dataclass(frozen=True)
class Decision:
    """What the strategy wants after bar ``t``: the target side, how sure it is, and why."""

    t: int
    side: PositionSide  # LONG/SHORT: be in that position (reverse if opposite); FLAT: leave the position
    confidence: float
    reason: str

    @property
    def is_exit(self) -> bool:
        """True when the decision only asks to leave the current position."""
        return self.side is PositionSide.FLAT


def exits_for_held_side(entry: np.ndarray, exit_long: np.ndarray, exit_short: np.ndarray) -> np.ndarray:
    """Exit flags for the side the strategy's own signals hold: ``exit_long`` while long, ``exit_short`` while short.

    Path-dependent, so it is one sequential pass, but only over bars where something happens.
    A reversal (an entry against the held side) also sets the exit flag.
    """
    exits = np.zeros(len(entry), dtype=np.bool_)
    side = 0
    for t in np.flatnonzero((entry != 0) | exit_long | exit_short).tolist():
        if (side == 1 and exit_long[t]) or (side == -1 and exit_short[t]):
            exits[t] = True
            side = 0
        wanted = int(entry[t])
        if wanted:
            if side == -wanted:
                exits[t] = True
            side = wanted
    return exits


def bounded_strength(magnitude: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """tanh(|magnitude| / scale) in [0, 1): 0 where undefined, 1 where the scale is 0 but the magnitude is not."""
    magnitude = np.abs(magnitude)
    out = np.zeros(len(magnitude), dtype=np.float64)
    valid = np.isfinite(magnitude) & np.isfinite(scale)
    positive = valid & (scale > 0)
    out[positive] = np.tanh(magnitude[positive] / scale[positive])
    out[valid & (scale == 0) & (magnitude > 0)] = 1.0
    return out


class Strategy(ABC):
    """A trading strategy: typed parameters, vectorised causal signals, and a decision per bar."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]

    def __init__(self, params: BaseModel | dict[str, Any] | None = None) -> None:
        if params is None:
            params = {}
        if isinstance(params, BaseModel) and not isinstance(params, self.Params):
            params = params.model_dump()
        if isinstance(params, dict):
            try:
                params = self.Params.model_validate(params)
            except ValidationError as error:
                raise ValueError(f"invalid parameters for strategy {self.name!r}: {error}") from error
        if not isinstance(params, self.Params):
            raise TypeError(f"parameters for {self.name!r} must be a dict or {self.Params.__name__}, got {type(params).__name__}")
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    @property
    @abstractmethod
    def warmup(self) -> int:
        """Bars needed before the first signal: no signal is emitted at an index below this."""

    @abstractmethod
    def _signals(self, bars: Bars) -> Signals:
        """The strategy's raw signals over ``bars`` (causal)."""

    @abstractmethod
    def reason(self, side: PositionSide) -> str:
        """Why this strategy asks for ``side``, in words."""

    def signals(self, bars: Bars) -> Signals:
        """Signals for every bar; the value at ``t`` depends on ``bars[:t+1]`` only."""
        raw = self._signals(bars)
        if len(raw) != len(bars):
            raise ValueError(f"{self.name} produced {len(raw)} signals for {len(bars)} bars")
        if len(bars) <= self.warmup:
            return Signals.none(len(bars))
        entry, exit_, confidence = raw.entry.copy(), raw.exit.copy(), raw.confidence.copy()
        entry[: self.warmup], exit_[: self.warmup], confidence[: self.warmup] = 0, False, 0.0
        return Signals(entry, exit_, confidence)

    def decide(self, signals: Signals, t: int) -> Decision | None:
        """The decision after bar ``t``: an entry (reversing if needed), an exit, or None."""
        if not 0 <= t < len(signals):
            raise IndexError(f"bar index {t} outside the {len(signals)} signals")
        confidence = float(signals.confidence[t])
        if signals.entry[t]:
            side = PositionSide(int(signals.entry[t]))
            return Decision(t, side, confidence, self.reason(side))
        if signals.exit[t]:
            return Decision(t, PositionSide.FLAT, confidence, self.reason(PositionSide.FLAT))
        return None
