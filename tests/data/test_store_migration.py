"""A store file made before the tick series split: its ``ticks`` table moves to tick_series/tick_rows on open."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from tradeloom.data.frames import Batch, ticks_frame
from tradeloom.data.store import MarketStore

UTC = timezone.utc
AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# The ticks table as stores created before the split have it (labels on every row).
OLD_TICKS_DDL = """CREATE TABLE ticks (
    symbol VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, seq INTEGER NOT NULL,
    bid DOUBLE, ask DOUBLE, bid_volume DOUBLE, ask_volume DOUBLE,
    source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL)"""
OLD_ROWS = [
    ("EURUSD", datetime(2019, 2, 4, 0, 0, 0, 123000), 0, 1.1472, 1.14725, 1.5, 2.25, "dukascopy",
     datetime(2024, 4, 1, 9, 0)),
    ("EURUSD", datetime(2019, 2, 4, 0, 0, 0, 123000), 1, 1.1473, 1.14735, 0.75, 1.0, "dukascopy",
     datetime(2024, 4, 1, 9, 0)),
    ("EURUSD", datetime(2019, 2, 4, 0, 0, 1, 5000), 0, 1.1474, 1.14745, None, 3.0, "dukascopy",
     datetime(2024, 4, 1, 9, 0)),
    ("USDJPY", datetime(2019, 2, 4, 0, 0, 2), 0, 109.801, 109.804, 1.0, 1.0, "dukascopy",
     datetime(2024, 4, 2, 9, 0)),
]


def old_store(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(OLD_TICKS_DDL)
        con.executemany("INSERT INTO ticks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", OLD_ROWS)
    finally:
        con.close()


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def gbp_batch() -> Batch:
    frame = ticks_frame(pd.DataFrame({
        "symbol": "GBPUSD", "ts": pd.to_datetime([datetime(2019, 2, 4, 0, 0, 3)], utc=True),
        "bid": [1.3061], "ask": [1.3063], "bid_volume": [1.0], "ask_volume": [2.0], "source": "dukascopy",
    }))
    return Batch("dukascopy", "GBPUSD", "tick", frame)


def test_an_old_ticks_table_is_moved_to_the_series_layout_once(tmp_path: Path) -> None:
    path = tmp_path / "market.duckdb"
    old_store(path)
    store = MarketStore(path, lock_timeout=5.0)
    # Reading does not migrate (a read-only open cannot); the old table still reads the same.
    assert len(store.ticks("EURUSD")) == 3

    store.write_batch(gbp_batch(), AT)

    assert query(path, "SELECT table_type FROM information_schema.tables WHERE table_name = 'ticks'") == [("VIEW",)]
    assert query(path, "SELECT * FROM tick_series ORDER BY series") == [
        (1, "EURUSD", "dukascopy"), (2, "USDJPY", "dukascopy"), (3, "GBPUSD", "dukascopy"),
    ]
    assert query(path, "SELECT * FROM ticks WHERE symbol <> 'GBPUSD' ORDER BY symbol, ts, seq") == OLD_ROWS
    eur = store.ticks("EURUSD")
    assert list(eur["bid"]) == [1.1472, 1.1473, 1.1474]
    assert list(eur["ts"]) == [pd.Timestamp("2019-02-04 00:00:00.123", tz="UTC")] * 2 + [
        pd.Timestamp("2019-02-04 00:00:01.005", tz="UTC")]
    assert pd.isna(eur["bid_volume"].iloc[2])

    # A second open finds the new layout and changes nothing; the old rows keep their keys, so
    # writing them again as a batch adds nothing.
    again = Batch("dukascopy", "EURUSD", "tick", eur)
    result = store.write_batch(again, AT)
    assert (result.rows_added, result.rows_updated) == (0, 0)
    assert query(path, "SELECT * FROM tick_series ORDER BY series") == [
        (1, "EURUSD", "dukascopy"), (2, "USDJPY", "dukascopy"), (3, "GBPUSD", "dukascopy"),
    ]
    assert query(path, "SELECT count(*) FROM tick_rows") == [(5,)]
    assert query(path, "SELECT * FROM ticks WHERE symbol <> 'GBPUSD' ORDER BY symbol, ts, seq") == OLD_ROWS


def test_a_new_store_has_the_series_layout_and_ticks_view(tmp_path: Path) -> None:
    store = MarketStore(tmp_path / "market.duckdb", lock_timeout=5.0)
    store.write_batch(gbp_batch(), AT)
    kinds = query(store.path, """SELECT table_name, table_type FROM information_schema.tables
                                  WHERE table_name IN ('ticks', 'tick_rows', 'tick_series') ORDER BY table_name""")
    assert kinds == [("tick_rows", "BASE TABLE"), ("tick_series", "BASE TABLE"), ("ticks", "VIEW")]
    assert query(store.path, "SELECT symbol, ts, seq, bid, ask, source FROM ticks") == [
        ("GBPUSD", datetime(2019, 2, 4, 0, 0, 3), 0, 1.3061, 1.3063, "dukascopy"),
    ]
