"""One whole vectorbt run of the benchmark: load, its own moving averages, from_signals (fastest engine), metrics.

Run as a script for the cold run: ``python benchmarks/run_vectorbt.py FILE`` prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_vectorbt  # noqa: E402


def whole_run(path: Path, engine: str = "auto") -> dict:
    """Time each phase of one run with Portfolio.from_signals."""
    marks = [time.perf_counter()]
    frame = pd.read_parquet(path)
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    marks.append(time.perf_counter())
    up, down = bench_vectorbt.crosses(c)
    marks.append(time.perf_counter())
    pf = bench_vectorbt.from_signals(o, h, lo, c, up, down, engine)
    marks.append(time.perf_counter())
    freq_index = pd.to_datetime(frame["ts"].to_numpy(), utc=True)
    returns = pd.Series(pf.returns().to_numpy(), index=freq_index)
    stats = {
        "total_return": float(pf.total_return()), "sharpe": float(returns.vbt.returns(freq="1min").sharpe_ratio()),
        "max_drawdown": float(pf.max_drawdown()), "win_rate": float(pf.trades.win_rate()),
        "profit_factor": float(pf.trades.profit_factor()), "expectancy": float(pf.trades.expectancy()),
    }
    marks.append(time.perf_counter())
    phases = dict(zip(("load", "signals", "simulation", "metrics"), (b - a for a, b in zip(marks, marks[1:]))))
    records = pf.trades.values
    return {
        "bars": len(c), "seconds": marks[-1] - marks[0], **{f"{k}_s": v for k, v in phases.items()},
        "positions_closed": int(np.sum(records["status"] == 1)), "open": int(np.sum(records["status"] == 0)),
        "final_equity": float(pf.final_value()), **stats,
    }


if __name__ == "__main__":
    print(json.dumps(whole_run(Path(sys.argv[1]))))
