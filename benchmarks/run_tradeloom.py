"""One whole tradeloom run of the benchmark (load, indicators and signals, fast-path simulation, metrics).

Run as a script for the cold run: ``python benchmarks/run_tradeloom.py FILE [fixed|protection]``
prints one JSON line. backtest_sma.py also calls ``whole_run`` in-process for the warm figures.
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from tradeloom.trading.fastpath import FastPolicy, run_fast, trade_records
from tradeloom.trading.metrics import compute_metrics
from tradeloom.trading.risk.protection_rules import ProtectionConfig
from tradeloom.trading.strategies.base import Bars
from tradeloom.trading.strategies.sma_cross import SmaCross


def policy_for(name: str, tick: float = 0.0) -> FastPolicy:
    """The benchmark's fixed 2%/4% policy, or the full default protection with a 2% stop; prices rounded to ``tick``."""
    if name == "fixed":
        return FastPolicy(stop_pct=2.0, take_profit_pct=4.0, fee_pct=0.1, size=1.0, cash=100_000.0, tick_size=tick)
    if name == "protection":
        return FastPolicy.protection(ProtectionConfig(), stop_pct=2.0, fee_pct=0.1, size=1.0, cash=100_000.0,
                                     tick_size=tick)
    raise ValueError(f"policy must be 'fixed' or 'protection', got {name!r}")


def load_bars(path: Path) -> Bars:
    """Bars from the benchmark's Parquet file."""
    table = pq.read_table(path)
    return Bars(**{name: table.column(name).to_numpy() for name in ("ts", "open", "high", "low", "close", "volume")})


def whole_run(path: Path, policy_name: str = "fixed") -> dict:
    """Time each phase of one run; returns the timings, the trade count and the final equity."""
    policy = policy_for(policy_name)
    marks = [time.perf_counter()]
    bars = load_bars(path)
    marks.append(time.perf_counter())
    signals = SmaCross({"fast": 10, "slow": 50}).signals(bars)
    marks.append(time.perf_counter())
    result = run_fast(bars, signals, policy)
    marks.append(time.perf_counter())
    metrics = compute_metrics(bars.ts, result.equity, trade_records(result, bars.ts, "WALK"),
                              fees_paid=Decimal(repr(result.fees)))
    marks.append(time.perf_counter())
    phases = dict(zip(("load", "signals", "simulation", "metrics"), (b - a for a, b in zip(marks, marks[1:]))))
    return {
        "bars": len(bars), "seconds": marks[-1] - marks[0], **{f"{k}_s": v for k, v in phases.items()},
        "positions_closed": result.positions_closed, "open": int(result.open_entry_index >= 0),
        "exit_rows": len(result.trades), "final_equity": result.final_equity,
        "sharpe": metrics.sharpe, "max_drawdown": metrics.max_drawdown, "exits_by_reason": result.exits_by_reason(),
    }


if __name__ == "__main__":
    print(json.dumps(whole_run(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "fixed")))
