"""The market store's tables, and the conversions between frame timestamps and stored ones.

Timestamps are stored as naive DuckDB ``TIMESTAMP`` (microseconds) meaning UTC, so no
session time zone can shift them; frames handed back are tz-aware UTC again.
"""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import numpy as np
import pandas as pd

BAR_VALUES = ("open", "high", "low", "close", "volume", "adj_close")
TICK_VALUES = ("bid", "ask", "bid_volume", "ask_volume")
ACTION_VALUES = ("value", "description")
TICK_TIMEFRAME = "tick"

# Ticks are stored under a small series id instead of two VARCHAR labels per row: the labels
# cost ~40% of the append's CPU. The ``ticks`` view gives readers the old columns back.
TICK_SERIES_DDL = """CREATE TABLE IF NOT EXISTS tick_series (
    series SMALLINT PRIMARY KEY, symbol VARCHAR NOT NULL, source VARCHAR NOT NULL, UNIQUE (symbol, source))"""
# seq numbers ticks that share a timestamp (0 for the first), in the order the batch gave them.
TICK_ROWS_DDL = """CREATE TABLE IF NOT EXISTS tick_rows (
    series SMALLINT NOT NULL, ts TIMESTAMP NOT NULL, seq INTEGER NOT NULL,
    bid DOUBLE, ask DOUBLE, bid_volume DOUBLE, ask_volume DOUBLE, ingested_at TIMESTAMP NOT NULL)"""
TICKS_VIEW = """CREATE VIEW IF NOT EXISTS ticks AS
    SELECT s.symbol, r.ts, r.seq, r.bid, r.ask, r.bid_volume, r.ask_volume, s.source, r.ingested_at
      FROM tick_rows r JOIN tick_series s ON s.series = r.series"""
MAX_TICK_SERIES = 32767  # SMALLINT

# Bars and ticks carry no PRIMARY KEY constraint on purpose: DuckDB's ART index makes a
# 3-million-tick insert several times slower. The writer keeps keys unique itself (one
# writer per file, anti-join inserts, batches checked for duplicate keys).
DDL = (
    """CREATE TABLE IF NOT EXISTS bars (
        symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
        open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, adj_close DOUBLE,
        source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL)""",
    TICK_SERIES_DDL,
    TICK_ROWS_DDL,
    TICKS_VIEW,
    """CREATE TABLE IF NOT EXISTS corporate_actions (
        symbol VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
        value DOUBLE, description VARCHAR, source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL,
        PRIMARY KEY (symbol, ts, kind, source))""",
    """CREATE TABLE IF NOT EXISTS watermarks (
        source VARCHAR NOT NULL, symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL,
        last_ts TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (source, symbol, timeframe))""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, symbol VARCHAR NOT NULL,
        timeframe VARCHAR NOT NULL, reason VARCHAR NOT NULL, failed_checks VARCHAR NOT NULL,
        payload_dir VARCHAR NOT NULL, rows BIGINT NOT NULL, quarantined_at TIMESTAMP NOT NULL)""",
)


# The name each DDL statement creates, so a write runs only the statements whose object is missing.
_CREATES = tuple(statement.split(" EXISTS ", 1)[1].split(None, 1)[0] for statement in DDL)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the store's tables where they are missing, moving an old ``ticks`` table to tick_series/tick_rows."""
    # One catalog query per write (~1 ms) instead of seven statements: this runs on every write.
    # The layout is recognised by what ``ticks`` is (a table before the series split, a view since):
    # the store has no version number.
    present = dict(con.execute(
        """SELECT table_name, 'table' FROM duckdb_tables()
            WHERE database_name = current_database() AND schema_name = 'main'
           UNION ALL
           SELECT view_name, 'view' FROM duckdb_views()
            WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"""
    ).fetchall())
    if present.get("ticks") == "table":
        _split_tick_table(con)
        present.update(tick_series="table", tick_rows="table", ticks="view")
    for name, statement in zip(_CREATES, DDL):
        if name not in present:
            con.execute(statement)


def _split_tick_table(con: duckdb.DuckDBPyConnection) -> None:
    """Move the rows of an old ``ticks`` table (labels on every row) to tick_series/tick_rows, in one transaction."""
    con.begin()
    try:
        (series,) = con.execute("SELECT count(*) FROM (SELECT DISTINCT symbol, source FROM ticks)").fetchall()[0]
        if series > MAX_TICK_SERIES:
            raise ValueError(f"ticks table holds {series} (symbol, source) series; at most {MAX_TICK_SERIES} fit")
        con.execute(TICK_SERIES_DDL)
        con.execute(TICK_ROWS_DDL)
        con.execute(
            """INSERT INTO tick_series
               SELECT CAST(row_number() OVER (ORDER BY symbol, source) AS SMALLINT), symbol, source
                 FROM (SELECT DISTINCT symbol, source FROM ticks)"""
        )
        con.execute(
            """INSERT INTO tick_rows
               SELECT s.series, t.ts, t.seq, t.bid, t.ask, t.bid_volume, t.ask_volume, t.ingested_at
                 FROM ticks t JOIN tick_series s ON s.symbol = t.symbol AND s.source = t.source
                ORDER BY s.series, t.ts, t.seq"""
        )
        con.execute("DROP TABLE ticks")
        con.execute(TICKS_VIEW)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def utc_param(value: datetime, name: str) -> datetime:
    """``value`` as a naive UTC datetime for a query parameter; ValueError if it has no time zone."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def from_stored(value: datetime | None) -> datetime | None:
    """A stored naive-UTC timestamp as an aware UTC datetime (None stays None)."""
    if value is None:
        return None
    return pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


def frame_ts_ns(frame: pd.DataFrame) -> np.ndarray:
    """The frame's ``ts`` column as int64 UTC nanoseconds; ValueError on missing or naive values."""
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"ts must be a tz-aware UTC datetime column, got dtype {ts.dtype}")
    if ts.isna().any():
        raise ValueError(f"ts has {int(ts.isna().sum())} missing values")
    return ts.dt.tz_convert("UTC").dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").view("int64")


def ns_to_stored(ts_ns: np.ndarray) -> np.ndarray:
    """UTC nanoseconds as the microsecond datetimes DuckDB stores (sub-microsecond digits dropped)."""
    return (ts_ns // 1_000).astype("datetime64[us]")
