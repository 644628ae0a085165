"""Fast-path results in the shapes the rest of tradeloom reads: TradeRecords for metrics and reports."""

from __future__ import annotations

import numpy as np

from tradeloom.trading.fastpath.backtest import FastResult
from tradeloom.trading.metrics import TradeRecord
from tradeloom.trading.orders import Side


def trade_records(result: FastResult, ts: np.ndarray, symbol: str) -> list[TradeRecord]:
    """One TradeRecord per exit row (a scale-out is one), stamped with the bar times of entry and exit."""
    t = result.trades
    stamps = np.asarray(ts, dtype=np.int64)
    side = Side.BUY if result.policy.direction > 0 else Side.SELL
    fees = t["entry_fee"] + t["exit_fee"]
    columns = zip(
        t["quantity"].tolist(), stamps[t["entry_index"]].tolist(), t["entry_price"].tolist(),
        stamps[t["exit_index"]].tolist(), t["exit_price"].tolist(), result.pnl.tolist(), fees.tolist(),
        t["reason"].tolist(),
    )
    return [
        TradeRecord(symbol, side, qty, entry_ts, entry_px, exit_ts, exit_px, pnl, fee, result.reason_label(reason))
        for qty, entry_ts, entry_px, exit_ts, exit_px, pnl, fee, reason in columns
    ]
