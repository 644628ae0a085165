"""One writer and many readers at once on the WAL file: nobody waits for a reader, a second writer queues."""

from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.trading.ledger.builders import fill_of
from tradeloom.errors import TransientError, is_retryable
from tradeloom.trading.ledger import SqlLedger, head_revision, migrate_ledger
from tradeloom.trading.orders import Side


def _raw(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=0.1, check_same_thread=False)
    return connection


def test_the_ledger_file_is_in_wal_mode(ledger: SqlLedger, tmp_path: Path) -> None:
    raw = _raw(tmp_path / "ledger.sqlite")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        raw.close()


def test_a_reader_holding_a_snapshot_does_not_block_the_writer(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.record_fill(fill_of("f-1", Side.BUY, "1", "100"))
    reader = _raw(tmp_path / "ledger.sqlite")
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM fills").fetchone() == (1,)
        done = threading.Event()

        def write() -> None:
            ledger.record_fill(fill_of("f-2", Side.BUY, "1", "101"))
            done.set()

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        assert done.wait(10), "the writer waited for a reader: the file is not in WAL mode"
        assert reader.execute("SELECT count(*) FROM fills").fetchone() == (1,)  # its snapshot is stable
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM fills").fetchone() == (2,)
    finally:
        reader.close()


def test_readers_read_while_a_write_is_in_flight_and_a_second_writer_queues(ledger_url: str, tmp_path: Path) -> None:
    with SqlLedger(ledger_url, venue="sim") as live, SqlLedger(ledger_url, venue="sim") as dashboard:
        live.record_fill(fill_of("f-1", Side.BUY, "1", "100"))
        other_writer = _raw(tmp_path / "ledger.sqlite")
        try:
            other_writer.execute("BEGIN IMMEDIATE")
            other_writer.execute(
                "INSERT INTO trading_state (key, value, reason, updated_ns) VALUES ('breaker', 'halted', 'test', 1)")
            assert [fill.fill_id for fill in dashboard.fills()] == ["f-1"]  # not blocked by the open write
            assert dashboard.get_state("breaker") is None  # and does not see it before commit
            late_fill = fill_of("f-2", Side.SELL, "1", "110")
            queued = threading.Thread(target=live.record_fill, args=(late_fill,), daemon=True)
            queued.start()
            queued.join(0.3)
            assert queued.is_alive(), "a second writer should wait for the lock, not fail or skip it"
            other_writer.execute("COMMIT")
            queued.join(10)
            assert not queued.is_alive()
        finally:
            other_writer.close()
        assert [fill.fill_id for fill in dashboard.fills()] == ["f-1", "f-2"]
        assert dashboard.positions()["BTCUSD"].realised_pnl == D("10")
        assert dashboard.get_state("breaker") is not None


def test_a_live_writer_and_a_polling_reader_run_together(ledger_url: str) -> None:
    errors: list[BaseException] = []
    seen: list[int] = []
    with SqlLedger(ledger_url, venue="sim") as live, SqlLedger(ledger_url, venue="sim") as dashboard:
        finished = threading.Event()

        def trade() -> None:
            try:
                for n in range(40):
                    live.record_fill(fill_of(f"f-{n}", Side.BUY if n % 2 == 0 else Side.SELL, "1", str(100 + n), ts=n))
            except BaseException as error:  # reported by the main thread
                errors.append(error)
            finally:
                finished.set()

        writer = threading.Thread(target=trade)
        writer.start()
        while not finished.is_set():
            positions = dashboard.positions()
            seen.append(len(dashboard.fills()))
            if positions:
                assert positions["BTCUSD"].quantity in (D("0"), D("1"))
        writer.join()
        assert errors == []
        assert seen == sorted(seen)  # a reader only ever sees whole, growing histories
        position = dashboard.positions()["BTCUSD"]
        assert (position.quantity, position.realised_pnl) == (D("0"), D("20"))  # 20 round trips of +1


def test_a_lock_held_past_the_busy_timeout_is_a_transient_error(ledger_url: str, tmp_path: Path) -> None:
    other_writer = _raw(tmp_path / "ledger.sqlite")
    with SqlLedger(ledger_url, venue="sim", busy_timeout_ms=50) as impatient:
        try:
            other_writer.execute("BEGIN IMMEDIATE")
            with pytest.raises(TransientError, match="is unavailable, try again: database is locked") as caught:
                impatient.record_fill(fill_of("f-1", Side.BUY, "1", "100"))
            assert is_retryable(caught.value)
            assert [fill.fill_id for fill in impatient.fills()] == []  # reading goes on meanwhile
        finally:
            other_writer.execute("ROLLBACK")
            other_writer.close()
        impatient.record_fill(fill_of("f-1", Side.BUY, "1", "100"))  # the retry
        assert [fill.fill_id for fill in impatient.fills()] == ["f-1"]


def test_an_upgrade_waiting_on_a_busy_file_is_a_transient_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    assert migrate_ledger(url, "0001") == "0001"
    other_writer = _raw(tmp_path / "old.sqlite")
    try:
        other_writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(TransientError, match="database is locked"):
            SqlLedger(url, busy_timeout_ms=50)
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
    with SqlLedger(url, busy_timeout_ms=50) as upgraded:
        assert upgraded.schema_revision() == head_revision()
