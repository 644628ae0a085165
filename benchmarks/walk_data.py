"""The benchmark's data: a seeded random walk of one-minute OHLCV bars, cached as Parquet under benchmarks/.data/."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / ".data"
START_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
MINUTE_NS = 60_000_000_000
TICK = 1e-6  # prices are on this grid, so the engine (which rounds to its instrument's tick) sees the same data


def make_walk(n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` one-minute bars: log-normal closes (0.2% a minute), small opening gaps, a rare jump (1 in 2,000), prices on a 1e-6 grid."""
    rng = np.random.default_rng(seed)
    log_close = np.log(100.0) + np.cumsum(rng.normal(0.0, 0.002, n))
    gap = rng.normal(0.0, 0.0005, n) + np.where(rng.random(n) < 1 / 2000, rng.normal(0.0, 0.03, n), 0.0)
    close = np.exp(log_close)
    open_ = np.exp(np.concatenate(([np.log(100.0)], log_close[:-1])) + gap)
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.001, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.001, n)))
    open_, high, low, close = (np.round(a, 6) for a in (open_, high, low, close))  # nearest floats to the grid
    high = np.maximum(high, np.maximum(open_, close))
    low = np.minimum(low, np.minimum(open_, close))
    volume = rng.integers(1, 1_000, n).astype(np.float64)
    ts = START_NS + MINUTE_NS * np.arange(n, dtype=np.int64)
    return {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


def walk_file(n: int, seed: int) -> Path:
    """The Parquet file of ``make_walk(n, seed)``, written on first use."""
    path = DATA_DIR / f"walk_{n}_{seed}_grid6.parquet"
    if not path.exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.table(make_walk(n, seed)), tmp)
        tmp.replace(path)
    return path
