"""The DuckDB market store: idempotent upserts of bars and ticks, watermarks, quarantine, reads.

One file (``TRADELOOM_HOME/market.duckdb``); DuckDB lets one process write it at a time,
so every unit of work opens a connection, does its work in one transaction and closes
it. A connection refused because another process holds the file is retried with
backoff until ``lock_timeout``, then reported as a ``TransientError``.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import duckdb
import pandas as pd
import pyarrow as pa

from tradeloom.data.frames import Batch, bars_frame, ticks_frame
from tradeloom.data.store_queries import (
    quarantine_rows,
    read_bars,
    read_status,
    read_ticks,
    read_watermark,
)
from tradeloom.data.store_schema import ensure_schema, from_stored, utc_param
from tradeloom.data.store_writes import stage_actions, stage_rows, upsert_actions, upsert_rows
from tradeloom.data.timeframes import timeframe_ns
from tradeloom.errors import TransientError

_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 1.0
_LOCK_MESSAGE = re.compile(r"could not set lock|conflicting lock", re.IGNORECASE)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._=^-]+")

# DuckDB refuses a read-only and a read-write connection to one file in the same process,
# and its file lock does not serialise threads; one lock per file per process does.
_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()

# Store files are ATTACHed to one in-memory DuckDB per process and DETACHed after each unit of
# work: that opens and closes the file (and its lock) like a connection does, in about 1 ms
# instead of the ~20 ms of CPU it takes to start a whole new DuckDB instance per write.
_HUB: duckdb.DuckDBPyConnection | None = None
_HUB_GUARD = threading.Lock()


def _hub_cursor() -> duckdb.DuckDBPyConnection:
    global _HUB
    with _HUB_GUARD:
        if _HUB is None:
            _HUB = duckdb.connect(":memory:")
            atexit.register(_HUB.close)
        return _HUB.cursor()


def _process_lock(path: Path) -> threading.RLock:
    key = str(path.resolve())
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.RLock())


@dataclass(frozen=True)
class WriteResult:
    """What one write did: rows new to the store, rows whose values changed, the watermark move."""

    rows_added: int
    rows_updated: int
    watermark_before: datetime | None
    watermark_after: datetime | None
    actions_added: int = 0
    actions_updated: int = 0


@dataclass(frozen=True)
class StoreWrite:
    """One batch to write, and whether it moves its watermark (provisional rows do not)."""

    batch: Batch
    advance_watermark: bool = True


@dataclass(frozen=True)
class QuarantineRecord:
    """A batch rejected whole, why, and where its payloads and frame were kept."""

    batch_id: str
    source: str
    symbol: str
    timeframe: str
    reason: str
    failed_checks: list[dict]
    payload_dir: Path
    rows: int
    quarantined_at: datetime


def _safe_name(text: str) -> str:
    return _UNSAFE_NAME.sub("_", text).strip("._") or "payload"


class MarketStore:
    """Bars, ticks, corporate actions, watermarks and quarantine in one DuckDB file."""

    def __init__(
        self, path: Path, lock_timeout: float = 60.0, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if lock_timeout < 0:
            raise ValueError(f"lock_timeout must be >= 0 seconds, got {lock_timeout}")
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._sleep = sleep

    @property
    def quarantine_root(self) -> Path:
        """Where quarantined batches' payloads are kept."""
        return self.path.parent / "quarantine"

    # -- connections -------------------------------------------------------------------

    def _open(self, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, str]:
        """A cursor whose default database is the store file, attached under a fresh alias."""
        alias = f"market_{uuid.uuid4().hex}"
        target = str(self.path).replace("'", "''")
        mode = " (READ_ONLY)" if read_only else ""
        slept, delay = 0.0, _FIRST_BACKOFF
        while True:
            con = _hub_cursor()
            try:
                con.execute(f"ATTACH '{target}' AS {alias}{mode}")
                con.execute(f"USE {alias}")
                return con, alias
            except duckdb.IOException as err:
                con.close()
                if not _LOCK_MESSAGE.search(str(err)):
                    raise
                if slept >= self.lock_timeout:
                    raise TransientError(
                        f"market store {self.path} is locked by another process; "
                        f"gave up after {self.lock_timeout:g}s: {err}"
                    ) from err
                pause = min(delay, self.lock_timeout - slept)
                self._sleep(pause)
                slept += pause
                delay = min(delay * 2, _MAX_BACKOFF)
            except BaseException:
                con.execute(f"DETACH DATABASE IF EXISTS {alias}")
                con.close()
                raise

    @contextmanager
    def _connection(self, write: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A connection for one unit of work (None for a read of a store not yet created)."""
        lock = _process_lock(self.path)
        if not lock.acquire(timeout=self.lock_timeout):
            raise TransientError(f"market store {self.path} is busy in this process for {self.lock_timeout:g}s")
        try:
            if not write and not self.path.exists():
                yield None
                return
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            con, alias = self._open(read_only=not write)
            try:
                if write:
                    ensure_schema(con)
                yield con
            finally:
                try:
                    con.execute("USE memory")
                    con.execute(f"DETACH {alias}")  # checkpoints and closes the file, releasing its lock
                finally:
                    con.close()
        finally:
            lock.release()

    # -- writes ------------------------------------------------------------------------

    def write_batch(self, batch: Batch, ingested_at: datetime, advance_watermark: bool = True) -> WriteResult:
        """Upsert the batch's bars or ticks and actions and move its watermark, in one transaction.

        With ``advance_watermark`` False the watermark stays where it is: provisional rows (1m bars
        aggregated from the open day's ticks) do not make the next run skip the vendor's own file.
        """
        return self.write_batches([StoreWrite(batch, advance_watermark)], ingested_at)[0]

    def write_batches(self, writes: Sequence[StoreWrite], ingested_at: datetime) -> list[WriteResult]:
        """Every write of ``writes`` in order, in one transaction: all of them are stored or none is."""
        at = utc_param(ingested_at, "ingested_at")
        staged = []
        for write in writes:  # every batch is checked before the file is opened
            if not write.batch.is_ticks:
                timeframe_ns(write.batch.timeframe)
            staged.append((write, *stage_rows(write.batch), stage_actions(write.batch)))
        if not staged:
            return []
        with self._connection(write=True) as con:
            assert con is not None
            con.begin()
            try:
                results = [_apply(con, write, rows, last_ns, actions, at) for write, rows, last_ns, actions in staged]
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return results

    def quarantine(
        self, batch: Batch, reason: str, failed_checks: list[dict], quarantined_at: datetime
    ) -> QuarantineRecord:
        """Keep the batch's raw payloads and frame under quarantine/<batch_id>/ and record it; no row is stored."""
        at = utc_param(quarantined_at, "quarantined_at")
        try:
            checks_json = json.dumps(failed_checks)
        except TypeError as err:
            raise ValueError(f"failed_checks must be JSON-serialisable: {err}") from None
        stamp = at.strftime("%Y%m%dT%H%M%S")
        names = (_safe_name(batch.source), _safe_name(batch.symbol), _safe_name(batch.timeframe))
        batch_id = f"{stamp}-{'-'.join(names)}-{uuid.uuid4().hex[:8]}"
        payload_dir = self.quarantine_root / batch_id
        _write_payloads(batch, reason, json.loads(checks_json), payload_dir)
        relative = payload_dir.relative_to(self.path.parent).as_posix()
        with self._connection(write=True) as con:
            assert con is not None
            con.execute(
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [batch_id, batch.source, batch.symbol, batch.timeframe, reason, checks_json, relative,
                 len(batch.frame), at],
            )
        return QuarantineRecord(
            batch_id, batch.source, batch.symbol, batch.timeframe, reason, json.loads(checks_json),
            payload_dir, len(batch.frame), from_stored(at),  # type: ignore[arg-type]
        )

    # -- reads -------------------------------------------------------------------------

    def bars(
        self,
        symbol: str,
        timeframe: str,
        start: datetime | None = None,
        end: datetime | None = None,
        source: str | None = None,
        priority: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Bars in [start, end) ordered by ts; with ``priority``, per ts the bar of the first listed source.

        A ``source`` picks that source's bars alone (one per ts already), so ``priority`` is then ignored.
        """
        timeframe_ns(timeframe)
        if source is not None:
            priority = None
        if priority is not None and (isinstance(priority, str) or not list(priority)):
            raise ValueError(f"priority must be a non-empty sequence of source names, got {priority!r}")
        with self._connection(write=False) as con:
            if con is None:
                return bars_frame()
            return read_bars(con, symbol, timeframe, start, end, source, priority)

    def ticks(
        self, symbol: str, start: datetime | None = None, end: datetime | None = None, source: str | None = None
    ) -> pd.DataFrame:
        """Ticks in [start, end) in time order."""
        with self._connection(write=False) as con:
            if con is None:
                return ticks_frame()
            return read_ticks(con, symbol, start, end, source)

    def watermark(self, source: str, symbol: str, timeframe: str) -> datetime | None:
        """The last ts stored for (source, symbol, timeframe) ("tick" for ticks), or None."""
        with self._connection(write=False) as con:
            return None if con is None else read_watermark(con, source, symbol, timeframe)

    def status(self) -> dict[str, Any]:
        """JSON-serialisable summary: series with counts, first/last ts and watermarks; actions; quarantine."""
        with self._connection(write=False) as con:
            if con is None:
                return {"store": str(self.path), "series": [], "corporate_actions": [], "quarantined": []}
            return {"store": str(self.path), **read_status(con, self.path.parent)}

    def quarantined(self) -> list[QuarantineRecord]:
        """Every quarantined batch, oldest first."""
        with self._connection(write=False) as con:
            rows = [] if con is None else quarantine_rows(con)
        return [
            QuarantineRecord(**{**row, "payload_dir": self.path.parent / row["payload_dir"]}) for row in rows
        ]


def _apply(con: duckdb.DuckDBPyConnection, write: StoreWrite, rows: pa.Table, last_ns: int | None,
           actions: pa.Table | None, at: datetime) -> WriteResult:
    """One staged batch upserted, and its watermark moved (unless provisional), in the caller's transaction."""
    batch = write.batch
    before = read_watermark(con, batch.source, batch.symbol, batch.timeframe)
    added, updated = upsert_rows(con, batch, rows, at)
    actions_added, actions_updated = upsert_actions(con, batch, actions, at)
    after = before
    if last_ns is not None and write.advance_watermark:
        last = pd.Timestamp(int(last_ns), tz="UTC").floor("us").to_pydatetime()
        if before is None or last > before:
            con.execute(
                """INSERT INTO watermarks VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (source, symbol, timeframe)
                   DO UPDATE SET last_ts = excluded.last_ts, updated_at = excluded.updated_at""",
                [batch.source, batch.symbol, batch.timeframe, utc_param(last, "last_ts"), at],
            )
            after = last
    return WriteResult(added, updated, before, after, actions_added, actions_updated)


# -- quarantine payloads -----------------------------------------------------------------


def _write_payloads(batch: Batch, reason: str, failed_checks: list[dict], payload_dir: Path) -> None:
    """Raw payloads, frame.parquet (and actions.parquet) and manifest.json, written then moved into place."""
    partial = payload_dir.with_name(payload_dir.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    (partial / "raw").mkdir(parents=True)
    for number, payload in enumerate(batch.raw):
        name = _safe_name(payload.name.lstrip("/"))[-150:]
        (partial / "raw" / f"{number:04d}-{name}").write_bytes(payload.body)
    frames = {"frame": batch.frame, "actions": batch.actions if batch.actions is not None else None}
    for name, frame in frames.items():
        if frame is None or (name == "actions" and not len(frame)):
            continue
        try:
            frame.to_parquet(partial / f"{name}.parquet", index=False)
        except (ValueError, TypeError, pa.ArrowException):
            # A frame broken enough to be refused by Parquet is still kept, as text.
            (partial / f"{name}.parquet").unlink(missing_ok=True)
            frame.to_csv(partial / f"{name}.csv", index=False)
    manifest = {
        "source": batch.source, "symbol": batch.symbol, "timeframe": batch.timeframe, "reason": reason,
        "failed_checks": failed_checks, "rows": len(batch.frame),
        "raw": [payload.name for payload in batch.raw],
    }
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2))
    partial.rename(payload_dir)
