"""Read queries of the market store: bars, ticks, watermarks, status and quarantine records."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import duckdb
import numpy as np
import pandas as pd

from tradeloom.data.frames import bars_frame, ticks_frame
from tradeloom.data.store_schema import BAR_VALUES, TICK_VALUES, from_stored, utc_param


def _range_clause(start: datetime | None, end: datetime | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    if start is not None:
        sql += " AND ts >= ?"
        params.append(utc_param(start, "start"))
    if end is not None:
        sql += " AND ts < ?"
        params.append(utc_param(end, "end"))
    if start is not None and end is not None and params[0] > params[1]:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    return sql, params


def _fetch(
    con: duckdb.DuckDBPyConnection, table: str, values: Sequence[str], where: str, params: list[Any],
    qualify: str, qualify_params: list[Any], order_by: str,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of ``table`` as (frame of ts and values, source names per row).

    Sources come back as small integer codes: turning millions of identical strings
    into Python objects one by one is what made large reads slow.
    """
    sources = [r[0] for r in con.execute(
        f"SELECT DISTINCT source FROM {table} WHERE {where} ORDER BY source", params).fetchall()]
    frame = con.execute(
        f"""SELECT ts, {', '.join(values)}, list_position(?::VARCHAR[], source)::INTEGER - 1 AS source_code
              FROM {table} WHERE {where}{qualify} ORDER BY {order_by}""",
        [sources, *params, *qualify_params],
    ).df()
    names = np.asarray(sources + [""], dtype=object)
    return frame, names[frame.pop("source_code").to_numpy()]


def _with_labels(frame: pd.DataFrame, labels: dict[str, str], sources: np.ndarray) -> pd.DataFrame:
    """``frame`` plus constant label columns and the source column, all of object dtype.

    Explicit object Series: assigning a bare object array would make pandas infer a
    string dtype, which the schema then converts back, twice the work on big reads.
    """
    index = frame.index
    columns = {name: pd.Series(np.full(len(frame), value, dtype=object), index=index, dtype=object)
               for name, value in labels.items()}
    columns.update({name: frame[name] for name in frame.columns})
    columns["source"] = pd.Series(sources, index=index, dtype=object)
    return pd.DataFrame(columns, copy=False)


def _where(symbol: str, start: datetime | None, end: datetime | None, source: str | None) -> tuple[str, list[Any]]:
    range_sql, range_params = _range_clause(start, end)
    where, params = f"symbol = ?{range_sql}", [symbol, *range_params]
    if source is not None:
        where += " AND source = ?"
        params.append(source)
    return where, params


def read_bars(
    con: duckdb.DuckDBPyConnection,
    symbol: str,
    timeframe: str,
    start: datetime | None,
    end: datetime | None,
    source: str | None,
    priority: Sequence[str] | None,
) -> pd.DataFrame:
    """Bars of one symbol and timeframe in [start, end), one per ts when ``priority`` is given."""
    where, params = _where(symbol, start, end, source)
    where += " AND timeframe = ?"
    params.append(timeframe)
    qualify, qualify_params = "", []
    if priority is not None:
        ranked = list(priority)
        where += " AND list_contains(?::VARCHAR[], source)"
        params.append(ranked)
        qualify = " QUALIFY row_number() OVER (PARTITION BY ts ORDER BY list_position(?::VARCHAR[], source)) = 1"
        qualify_params.append(ranked)
    frame, sources = _fetch(con, "bars", BAR_VALUES, where, params, qualify, qualify_params, "ts, source")
    labels = {"symbol": symbol, "timeframe": timeframe}
    return bars_frame(_with_labels(frame, labels, sources))


def read_ticks(
    con: duckdb.DuckDBPyConnection,
    symbol: str,
    start: datetime | None,
    end: datetime | None,
    source: str | None,
) -> pd.DataFrame:
    """Ticks of one symbol in [start, end), in time order (ties in the order they arrived)."""
    where, params = _where(symbol, start, end, source)
    frame, sources = _fetch(con, "ticks", TICK_VALUES, where, params, "", [], "ts, source, seq")
    return ticks_frame(_with_labels(frame, {"symbol": symbol}, sources))


def read_watermark(con: duckdb.DuckDBPyConnection, source: str, symbol: str, timeframe: str) -> datetime | None:
    """The last ts stored for (source, symbol, timeframe), UTC, or None."""
    row = con.execute(
        "SELECT last_ts FROM watermarks WHERE source = ? AND symbol = ? AND timeframe = ?",
        [source, symbol, timeframe],
    ).fetchall()
    return from_stored(row[0][0]) if row else None


QUARANTINE_COLUMNS = (
    "batch_id, source, symbol, timeframe, reason, failed_checks, payload_dir, rows, quarantined_at"
)


def quarantine_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every quarantine row, oldest first, with failed_checks decoded and quarantined_at aware."""
    rows = con.execute(
        f"SELECT {QUARANTINE_COLUMNS} FROM quarantine ORDER BY quarantined_at, batch_id"
    ).fetchall()
    names = [c.strip() for c in QUARANTINE_COLUMNS.split(",")]
    out = []
    for row in rows:
        record = dict(zip(names, row))
        record["failed_checks"] = json.loads(record["failed_checks"])
        record["quarantined_at"] = from_stored(record["quarantined_at"])
        out.append(record)
    return out


def _iso(value: datetime | None) -> str | None:
    stamp = from_stored(value)
    return stamp.isoformat() if stamp is not None else None


def read_status(con: duckdb.DuckDBPyConnection, home: Path) -> dict[str, Any]:
    """Series (kind, symbol, timeframe, source) with counts, first/last ts and watermark; actions; quarantine."""
    series = con.execute(
        """WITH s AS (
             SELECT 'bars' AS kind, symbol, timeframe, source, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts
               FROM bars GROUP BY symbol, timeframe, source
             UNION ALL
             SELECT 'ticks', symbol, 'tick', source, count(*), min(ts), max(ts)
               FROM ticks GROUP BY symbol, source)
           SELECT s.kind, s.symbol, s.timeframe, s.source, s.n, s.first_ts, s.last_ts, w.last_ts
             FROM s LEFT JOIN watermarks w
               ON w.source = s.source AND w.symbol = s.symbol AND w.timeframe = s.timeframe
            ORDER BY s.kind, s.symbol, s.timeframe, s.source"""
    ).fetchall()
    actions = con.execute(
        """SELECT symbol, source, count(*), min(ts), max(ts) FROM corporate_actions
            GROUP BY symbol, source ORDER BY symbol, source"""
    ).fetchall()
    quarantined = []
    for record in quarantine_rows(con):
        record["payload_dir"] = str(home / record["payload_dir"])
        record["quarantined_at"] = record["quarantined_at"].isoformat()
        quarantined.append(record)
    return {
        "series": [
            {
                "kind": kind, "symbol": symbol, "timeframe": timeframe, "source": source, "rows": int(n),
                "first_ts": _iso(first), "last_ts": _iso(last), "watermark": _iso(watermark),
            }
            for kind, symbol, timeframe, source, n, first, last, watermark in series
        ],
        "corporate_actions": [
            {"symbol": symbol, "source": source, "rows": int(n), "first_ts": _iso(first), "last_ts": _iso(last)}
            for symbol, source, n, first, last in actions
        ],
        "quarantined": quarantined,
    }
