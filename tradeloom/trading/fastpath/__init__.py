"""The fast backtest path: one compiled bar loop with the same fill rules as the event-by-event engine."""

from tradeloom.trading.fastpath.backtest import TRADE_DTYPE, FastResult, run_arrays, run_fast
from tradeloom.trading.fastpath.policy import FastPolicy
from tradeloom.trading.fastpath.records import trade_records

__all__ = ["TRADE_DTYPE", "FastPolicy", "FastResult", "run_arrays", "run_fast", "trade_records"]
