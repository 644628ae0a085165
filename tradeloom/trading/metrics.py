"""Performance metrics of a backtest from its equity curve and its closed trades.

Conventions:
- Returns are simple bar-to-bar returns of the equity curve; the risk-free rate is 0.
- Periods per year are inferred from the timestamps as the observed bar rate:
  ``(bars - 1) / ((last ts - first ts) / 365.25 days)``. Gaps (weekends, nights) are
  therefore accounted for: 252 daily equity bars over a calendar year give ~252.
- Sharpe = mean / sample std (ddof=1) * sqrt(periods per year). Sortino = mean / downside
  deviation * sqrt(periods per year), the downside deviation being sqrt(mean(min(r, 0)^2))
  over all returns (target 0). CAGR = (final / initial) ** (1 / years) - 1 with years from
  the timestamps. Calmar = CAGR / max drawdown.
- Max drawdown is the largest fall from a running peak, as a positive fraction. Its duration
  is the longest time spent below a previous peak: from the peak bar to the first bar back at
  or above it, or to the last bar if it never recovered (reported in bars and nanoseconds).
- A trade's ``pnl`` is net of its ``fees``. Exposure is the share of bars with a position open:
  bar t counts when entry_ts <= ts[t] < exit_ts for some trade, unless the caller passes the
  exact per-bar flags. Undefined ratios (no variation, no losses, no trades) are None; a
  return or deviation below 1e-12 counts as none (float rounding, not a move).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Sequence

import numpy as np

from tradeloom.trading.orders import Side

YEAR_NS = 365.25 * 86_400 * 1_000_000_000
ZERO = Decimal(0)
NOISE = 1e-12  # returns and deviations below this are float rounding of an unchanged or steady curve, not moves


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or not isinstance(value, (int, float, str, np.integer, np.floating)):
        raise ValueError(f"{name} must be a Decimal, int, float or numeric string, got {type(value).__name__}")
    else:
        try:
            if isinstance(value, (float, np.floating)):
                result = Decimal(repr(float(value)))  # the shortest repr, so 0.1 is 0.1, not its binary expansion
            else:
                result = Decimal(int(value) if isinstance(value, np.integer) else value)
        except ArithmeticError:
            raise ValueError(f"{name} is not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _ns(value: object, name: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
        return int(np.datetime64(value.replace(tzinfo=None) - value.utcoffset(), "ns").astype(np.int64))
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise ValueError(f"{name} must be integer nanoseconds or an aware datetime, got {value!r}")


@dataclass(frozen=True)
class TradeRecord:
    """One closed round trip (or scale-out): BUY is a long position, SELL a short; ``pnl`` is net of ``fees``."""

    symbol: str
    side: Side
    quantity: Decimal
    entry_ts: int  # UTC nanoseconds
    entry_price: Decimal
    exit_ts: int
    exit_price: Decimal
    pnl: Decimal
    fees: Decimal
    exit_reason: str

    def __post_init__(self) -> None:
        label = f"trade {self.symbol}"
        try:
            object.__setattr__(self, "side", Side(self.side))
        except ValueError:
            raise ValueError(f"{label} side must be BUY or SELL, got {self.side!r}") from None
        for name in ("quantity", "entry_price", "exit_price", "pnl", "fees"):
            object.__setattr__(self, name, _decimal(getattr(self, name), f"{label} {name}"))
        for name in ("entry_ts", "exit_ts"):
            object.__setattr__(self, name, _ns(getattr(self, name), f"{label} {name}"))
        if self.exit_ts < self.entry_ts:
            raise ValueError(f"{label} exits at {self.exit_ts} before it enters at {self.entry_ts}")
        if not isinstance(self.exit_reason, str) or not self.exit_reason:
            raise ValueError(f"{label} exit_reason must be a non-empty string, got {self.exit_reason!r}")

    @classmethod
    def from_ledger(cls, trade: Any) -> TradeRecord:
        """A record from a closed ledger ``BacktestTrade`` (entry_at/exit_at datetimes)."""
        if trade.exit_at is None or trade.exit_price is None or trade.pnl is None:
            raise ValueError(f"trade {trade.symbol} entered at {trade.entry_at} is still open")
        return cls(
            trade.symbol, trade.side, trade.quantity, _ns(trade.entry_at, "entry_at"), trade.entry_price,
            _ns(trade.exit_at, "exit_at"), trade.exit_price, trade.pnl, trade.fees, trade.exit_reason or "unknown",
        )  # fmt: skip


@dataclass(frozen=True)
class Metrics:
    """The scores of one backtest (see the module docstring for each definition)."""

    start_ts: int
    end_ts: int
    bars: int
    periods_per_year: float | None
    initial_equity: Decimal
    final_equity: Decimal
    total_return: float
    cagr: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float
    max_drawdown_duration_bars: int
    max_drawdown_duration_ns: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    exposure: float
    trades: int
    fees: Decimal
    exits_by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values: money as exact decimal strings, ratios as floats, undefined ones as None."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = str(value) if isinstance(value, Decimal) else dict(value) if isinstance(value, dict) else value
        return out


def drawdown(equity: np.ndarray) -> np.ndarray:
    """The fall from the running peak at each bar, as a fraction <= 0."""
    values = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(values)
    return values / peak - 1.0


def _equity_floats(equity: Sequence[float] | Sequence[Decimal] | np.ndarray) -> tuple[np.ndarray, Decimal, Decimal]:
    if isinstance(equity, np.ndarray) and equity.dtype != object:
        values = equity.astype(np.float64, copy=False)
    else:
        values = np.array([float(e) for e in equity], dtype=np.float64)  # Decimals
    if values.ndim != 1 or len(values) == 0:
        raise ValueError("equity must be a non-empty one-dimensional series")
    if not np.isfinite(values).all():
        raise ValueError(f"equity is not finite at index {int(np.flatnonzero(~np.isfinite(values))[0])}")
    if values[0] <= 0:
        raise ValueError(f"initial equity must be positive, got {values[0]}")
    return values, _decimal(equity[0], "initial equity"), _decimal(equity[-1], "final equity")


def _longest_underwater(ts: np.ndarray, values: np.ndarray) -> tuple[int, int]:
    at_peak = np.flatnonzero(values >= np.maximum.accumulate(values))
    starts, ends = at_peak[:-1], at_peak[1:]
    dipped = ends - starts > 1  # a bar below the peak lies between two bars at a peak
    starts, ends = starts[dipped], ends[dipped]
    if at_peak[-1] < len(values) - 1:  # still under water at the last bar
        starts, ends = np.append(starts, at_peak[-1]), np.append(ends, len(values) - 1)
    if len(starts) == 0:
        return 0, 0
    spans = ts[ends] - ts[starts]
    longest = int(np.argmax(spans))
    return int(ends[longest] - starts[longest]), int(spans[longest])


def _exposure(ts: np.ndarray, trades: Sequence[TradeRecord]) -> float:
    if not trades:
        return 0.0
    starts = np.searchsorted(ts, np.array([t.entry_ts for t in trades], dtype=np.int64), side="left")
    stops = np.searchsorted(ts, np.array([t.exit_ts for t in trades], dtype=np.int64), side="left")
    change = np.zeros(len(ts) + 1, dtype=np.int64)
    np.add.at(change, starts, 1)
    np.add.at(change, stops, -1)
    return float(np.mean(np.cumsum(change[:-1]) > 0))


def _annualised(ratio: float, years: float) -> float | None:
    if years <= 0:
        return None
    if ratio <= 0:
        return -1.0
    try:
        return math.exp(math.log(ratio) / years) - 1.0
    except OverflowError:  # a gain over minutes annualises past float range
        return None


def compute_metrics(
    ts: np.ndarray | Sequence[int],
    equity: Sequence[float] | Sequence[Decimal] | np.ndarray,
    trades: Iterable[TradeRecord] = (),
    *,
    periods_per_year: float | None = None,
    in_position: np.ndarray | None = None,
    fees_paid: Decimal | None = None,
) -> Metrics:
    """Metrics of an equity curve (one value per bar at ``ts`` UTC ns) and its closed trades.

    ``periods_per_year`` overrides the rate inferred from ``ts``; ``in_position`` (a bool per bar)
    overrides the exposure derived from the trades; ``fees_paid`` overrides the sum of trade fees
    (e.g. to include an open position's entry fee).
    """
    stamps = np.asarray(ts, dtype=np.int64)
    values, initial, final = _equity_floats(equity)
    if stamps.ndim != 1 or len(stamps) != len(values):
        raise ValueError(f"ts has {stamps.size} values, equity has {len(values)}")
    if len(stamps) > 1 and not (np.diff(stamps) > 0).all():
        raise ValueError("equity timestamps must be strictly increasing")
    closed = list(trades)
    for trade in closed:
        if not isinstance(trade, TradeRecord):
            raise ValueError(f"trades must be TradeRecord, got {type(trade).__name__}")

    span_ns = int(stamps[-1] - stamps[0])
    years = span_ns / YEAR_NS
    if periods_per_year is None and span_ns > 0:
        periods_per_year = (len(values) - 1) / years
    if periods_per_year is not None and not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")

    base = values[:-1]
    returns = np.divide(values[1:], base, out=np.ones_like(base), where=base > 0) - 1.0  # nothing left: no return
    returns[np.abs(returns) < NOISE] = 0.0
    sharpe = sortino = None
    if len(returns) >= 2 and periods_per_year is not None:
        scale = math.sqrt(periods_per_year)
        std = float(np.std(returns, ddof=1))
        downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
        sharpe = float(np.mean(returns)) / std * scale if std > NOISE else None
        sortino = float(np.mean(returns)) / downside * scale if downside > NOISE else None

    max_dd = float(-np.min(drawdown(values)))
    dd_bars, dd_ns = _longest_underwater(stamps, values)
    cagr = _annualised(values[-1] / values[0], years)
    calmar = cagr / max_dd if cagr is not None and max_dd > 0 else None

    pnls = [t.pnl for t in closed]
    gross_win = sum((p for p in pnls if p > 0), ZERO)
    gross_loss = -sum((p for p in pnls if p < 0), ZERO)
    if in_position is not None:
        flags = np.asarray(in_position, dtype=np.bool_)
        if flags.shape != values.shape:
            raise ValueError(f"in_position has {flags.size} flags for {len(values)} bars")
        exposure = float(np.mean(flags))
    else:
        exposure = _exposure(stamps, closed)

    return Metrics(
        start_ts=int(stamps[0]),
        end_ts=int(stamps[-1]),
        bars=len(values),
        periods_per_year=periods_per_year,
        initial_equity=initial,
        final_equity=final,
        total_return=float(final / initial - 1),
        cagr=cagr,
        sharpe=sharpe,
        sortino=sortino,
        calmar=calmar,
        max_drawdown=max_dd,
        max_drawdown_duration_bars=dd_bars,
        max_drawdown_duration_ns=dd_ns,
        win_rate=sum(1 for p in pnls if p > 0) / len(pnls) if pnls else None,
        profit_factor=float(gross_win / gross_loss) if gross_loss > 0 else None,
        expectancy=sum(pnls, ZERO) / len(pnls) if pnls else None,
        exposure=exposure,
        trades=len(closed),
        fees=fees_paid if fees_paid is not None else sum((t.fees for t in closed), ZERO),
        exits_by_reason=dict(sorted(Counter(t.exit_reason for t in closed).items())),
    )
