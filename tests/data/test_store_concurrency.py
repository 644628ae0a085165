"""The market store under real concurrent processes: DuckDB's file lock, retry with backoff, no lost rows."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pytest

from tradeloom.data.frames import Batch, bars_frame
from tradeloom.data.store import MarketStore
from tradeloom.errors import TransientError

UTC = timezone.utc
T0 = datetime(2019, 2, 4, tzinfo=UTC)
AT = datetime(2024, 5, 1, tzinfo=UTC)
SPAWN = mp.get_context("spawn")
BATCHES, BARS_PER_BATCH = 8, 1_000


def _batch(symbol: str, number: int) -> Batch:
    start = pd.Timestamp(T0) + pd.Timedelta(minutes=number * BARS_PER_BATCH)
    frame = bars_frame(pd.DataFrame({
        "symbol": symbol, "timeframe": "1m", "ts": pd.date_range(start, periods=BARS_PER_BATCH, freq="1min"),
        "open": 1.0, "high": 1.2, "low": 0.9, "close": 1.1 + np.arange(BARS_PER_BATCH) / 1e5, "volume": 1.0,
        "source": "dukascopy",
    }))
    return Batch("dukascopy", symbol, "1m", frame)


def _ingest(path: str, symbol: str, barrier: Any, results: Any) -> None:
    """Child process: wait for the other writer, then write BATCHES batches."""
    store = MarketStore(Path(path), lock_timeout=60.0)
    barrier.wait(timeout=120)
    added = [store.write_batch(_batch(symbol, k), AT).rows_added for k in range(BATCHES)]
    results.put((symbol, added))


# A lock holder needs only duckdb: a plain interpreter starts faster than a spawned test module.
_HOLD_WRITE_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS held (a INTEGER)")
print("held", flush=True)
sys.stdin.readline()
con.close()
"""


class LockHolder:
    """Another process with a read-write connection to the store file open until ``release()``."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLD_WRITE_LOCK, str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        """Close the connection and wait for the process to exit."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("go\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


def test_two_processes_ingesting_at_once_both_succeed_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "market.duckdb"
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    workers = [SPAWN.Process(target=_ingest, args=(str(path), s, barrier, results)) for s in ("EURUSD", "GBPUSD")]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=180) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)

    assert [w.exitcode for w in workers] == [0, 0]
    assert outcomes == {"EURUSD": [BARS_PER_BATCH] * BATCHES, "GBPUSD": [BARS_PER_BATCH] * BATCHES}
    store = MarketStore(path)
    last = T0 + timedelta(minutes=BATCHES * BARS_PER_BATCH - 1)
    for symbol in ("EURUSD", "GBPUSD"):
        bars = store.bars(symbol, "1m")
        assert len(bars) == BATCHES * BARS_PER_BATCH
        assert bars["ts"].is_unique
        assert store.watermark("dukascopy", symbol, "1m") == last


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[tuple[Path, LockHolder]]:
    """A store file whose write lock another process holds."""
    path = tmp_path / "market.duckdb"
    holder = LockHolder(path)
    yield path, holder
    holder.release()


def test_writer_gives_up_with_transient_error_after_lock_timeout(held_lock) -> None:
    path, _ = held_lock
    sleeps: list[float] = []
    store = MarketStore(path, lock_timeout=0.5, sleep=sleeps.append)

    with pytest.raises(TransientError, match=f"market store {path} is locked by another process; gave up after 0.5s"):
        store.write_batch(_batch("EURUSD", 0), AT)

    assert sleeps == pytest.approx([0.05, 0.1, 0.2, 0.15])


def test_reader_also_retries_then_gives_up(held_lock) -> None:
    path, _ = held_lock
    sleeps: list[float] = []

    with pytest.raises(TransientError, match="locked by another process"):
        MarketStore(path, lock_timeout=2.0, sleep=sleeps.append).bars("EURUSD", "1m")

    assert sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 0.45])


def test_writer_succeeds_once_the_other_process_lets_go(held_lock) -> None:
    path, holder = held_lock
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        holder.release()

    result = MarketStore(path, lock_timeout=5.0, sleep=sleep).write_batch(_batch("EURUSD", 0), AT)

    assert (result.rows_added, sleeps) == (BARS_PER_BATCH, [0.05])
