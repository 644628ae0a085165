"""Run the compiled bar loop on arrays or on a strategy's bars and signals; results as arrays."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from tradeloom.trading.fastpath import kernel
from tradeloom.trading.fastpath.policy import FastPolicy

TRADE_DTYPE = np.dtype(
    [
        ("position", np.int64),
        ("entry_index", np.int64),
        ("exit_index", np.int64),
        ("entry_price", np.float64),
        ("exit_price", np.float64),
        ("quantity", np.float64),
        ("reason", np.int64),
        ("entry_fee", np.float64),
        ("exit_fee", np.float64),
    ]
)

_FIXED_REASONS = {
    kernel.REASON_STOP: "stop",
    kernel.REASON_BREAKEVEN: "breakeven",
    kernel.REASON_TRAILING: "trailing",
    kernel.REASON_TAKE_PROFIT: "take_profit",
    kernel.REASON_SIGNAL: "signal",
}


@dataclass(frozen=True, eq=False)
class FastResult:
    """Exit fills (one row per exit, a scale-out being one), the equity curve and what is still open."""

    trades: np.ndarray
    equity: np.ndarray
    policy: FastPolicy
    open_quantity: float
    open_entry_index: int
    open_entry_price: float
    cash: float

    @property
    def final_equity(self) -> float:
        """Cash plus the open position marked at the last close."""
        return float(self.equity[-1]) if len(self.equity) else self.policy.cash

    @property
    def positions_closed(self) -> int:
        """Round trips that ended (a position with scale-outs counts once)."""
        return int(len(np.unique(self.trades["position"])) - self._open_position_rows())

    def _open_position_rows(self) -> int:
        if self.open_entry_index < 0 or len(self.trades) == 0:
            return 0
        return int(self.trades["entry_index"][-1] == self.open_entry_index)

    @property
    def pnl(self) -> np.ndarray:
        """Net PnL of each exit row: the price move times quantity less its entry-fee share and exit fee."""
        t = self.trades
        gross = self.policy.direction * t["quantity"] * (t["exit_price"] - t["entry_price"])
        return gross - t["entry_fee"] - t["exit_fee"]

    @property
    def fees(self) -> float:
        """All fees paid, the open position's entry fee included."""
        open_fee = 0.0
        if self.open_entry_index >= 0:
            open_fee = abs(self.open_quantity) * self.open_entry_price * self.policy.fee_pct / 100.0
        return float(self.trades["entry_fee"].sum() + self.trades["exit_fee"].sum() + open_fee)

    def reason_label(self, code: int) -> str:
        """The exit reason's name for a code in ``trades['reason']``."""
        if code >= kernel.REASON_SCALE_OUT:
            return self.policy.scale_out_label(code - kernel.REASON_SCALE_OUT)
        return _FIXED_REASONS[code]

    def exits_by_reason(self) -> dict[str, int]:
        """How many exit fills each reason produced."""
        counts = Counter(int(c) for c in self.trades["reason"])
        return {self.reason_label(code): counts[code] for code in sorted(counts)}


def _prices(name: str, values: np.ndarray, n: int | None) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if n is not None and len(array) != n:
        raise ValueError(f"{name} has {len(array)} values, close has {n}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} is not finite at index {int(np.flatnonzero(~np.isfinite(array))[0])}")
    if (array <= 0).any():
        raise ValueError(f"{name} must be positive; index {int(np.flatnonzero(array <= 0)[0])} is not")
    return array


def run_arrays(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    exit_: np.ndarray,
    policy: FastPolicy,
) -> FastResult:
    """Backtest one instrument on OHLC arrays with entry (+1/-1/0) and exit (bool) signals read at each close."""
    c = _prices("close", close, None)
    n = len(c)
    o, h, lo = _prices("open", open_, n), _prices("high", high, n), _prices("low", low, n)
    if (h < np.maximum(o, c)).any() or (lo > np.minimum(o, c)).any():
        bad = int(np.flatnonzero((h < np.maximum(o, c)) | (lo > np.minimum(o, c)))[0])
        raise ValueError(f"bar {bad} is inconsistent: high/low must enclose open and close")
    ent = np.ascontiguousarray(entry, dtype=np.int8)
    ext = np.ascontiguousarray(exit_, dtype=np.bool_)
    if len(ent) != n or len(ext) != n:
        raise ValueError(f"signals have {len(ent)} entries and {len(ext)} exits for {n} bars")
    p = policy
    capacity = int(np.count_nonzero(ent == p.direction)) * (len(p.scale_outs) + 1)
    cols, equity, open_qty, open_i, open_px, cash = kernel.simulate(
        o, h, lo, c, ent, ext, p.direction, float(p.size), float(p.cash),
        p.stop_pct / 100.0,
        1 if p.stop_basis == "signal_close" else 0,
        (p.take_profit_pct or 0.0) / 100.0,
        p.fee_pct / 100.0,
        float(p.breakeven_r or 0.0),
        np.array([rung[0] for rung in p.trailing], dtype=np.float64),
        np.array([rung[1] for rung in p.trailing], dtype=np.float64),
        np.array([lv[0] for lv in p.scale_outs], dtype=np.float64),
        np.array([lv[1] / 100.0 for lv in p.scale_outs], dtype=np.float64),
        p.scale_outs_in_percent,
        float(p.tick_size),
        float(p.lot_size),
        max(capacity, 1),
    )
    trades = np.empty(len(cols[0]), dtype=TRADE_DTYPE)
    for name, column in zip(TRADE_DTYPE.names, cols):
        trades[name] = column
    return FastResult(trades, equity, policy, float(open_qty), int(open_i), float(open_px), float(cash))


def run_fast(bars: object, signals: object, policy: FastPolicy) -> FastResult:
    """Backtest a strategy's ``Bars`` and ``Signals`` (anything with those array attributes) on the fast path."""
    return run_arrays(bars.open, bars.high, bars.low, bars.close, signals.entry, signals.exit, policy)
