"""The market store's write path: a batch staged as Arrow, then upserted by anti-join.

Rows are matched on their key (bars: symbol, timeframe, ts, source; ticks: the series id of
(symbol, source) in tick_series, ts, seq). A row whose values differ is updated (and counted as updated); a row with
no match is inserted; an identical row is left alone, so ingesting twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from tradeloom.data.frames import Batch
from tradeloom.data.store_schema import (
    ACTION_VALUES,
    BAR_VALUES,
    MAX_TICK_SERIES,
    TICK_VALUES,
    frame_ts_ns,
    ns_to_stored,
)


# -- staging a batch ---------------------------------------------------------------------


def check_labels(frame: pd.DataFrame, column: str, expected: str, what: str) -> None:
    """ValueError naming the odd values if any row's ``column`` is not ``expected`` (the batch's own label)."""
    values = frame[column]
    # Compared column-wide (Arrow-backed for str), not via one Python object per row.
    wrong = np.asarray(values.array != expected, dtype=bool)
    if wrong.any():
        others = sorted({str(v) for v in values[wrong].unique()[:1000]})
        raise ValueError(f"{what} for {column} {expected!r} holds rows with {column} {others}")


def stage_rows(batch: Batch) -> tuple[pa.Table, int | None]:
    """The batch's rows as an Arrow table keyed by stored ts (and seq for ticks), and the last ts in ns."""
    frame = batch.frame
    values = TICK_VALUES if batch.is_ticks else BAR_VALUES
    missing = [c for c in ("symbol", "ts", "source", *values) if c not in frame.columns]
    if missing:
        raise ValueError(f"batch {batch.source}/{batch.symbol}/{batch.timeframe} frame lacks columns {missing}")
    ts_ns = frame_ts_ns(frame)
    check_labels(frame, "symbol", batch.symbol, "batch")
    check_labels(frame, "source", batch.source, "batch")
    if not batch.is_ticks and "timeframe" in frame.columns:
        check_labels(frame, "timeframe", batch.timeframe, "batch")
    order = None
    if len(ts_ns) > 1 and (np.diff(ts_ns) < 0).any():
        order = np.argsort(ts_ns, kind="stable")
        ts_ns = ts_ns[order]
    stored = ns_to_stored(ts_ns)
    columns: dict[str, Any] = {"ts": stored}
    if batch.is_ticks:
        columns["seq"] = _seq_within_ts(stored.view("int64"))
    else:
        dup = stored[1:] == stored[:-1]
        if dup.any():
            first = pd.Timestamp(stored[1:][dup][0], tz="UTC").isoformat()
            raise ValueError(f"bar batch {batch.symbol}/{batch.timeframe} repeats {int(dup.sum())} ts, first {first}")
    for name in values:
        column = frame[name].to_numpy(dtype="float64", na_value=np.nan)
        column = column if order is None else column[order]
        # from_pandas: a NaN (no value) is stored as SQL NULL; without NaN the array is shared, no mask built
        columns[name] = pa.array(column, from_pandas=bool(np.isnan(column).any()))
    last_ns = int(ts_ns[-1]) if len(ts_ns) else None
    return pa.table(columns), last_ns


def _seq_within_ts(ts: np.ndarray) -> np.ndarray:
    """0 for the first of each run of equal (sorted) timestamps, then 1, 2, ..."""
    index = np.arange(len(ts), dtype=np.int64)
    starts = np.ones(len(ts), dtype=bool)
    starts[1:] = ts[1:] != ts[:-1]
    return (index - np.maximum.accumulate(np.where(starts, index, 0))).astype(np.int32)


def stage_actions(batch: Batch) -> pa.Table | None:
    """The batch's corporate actions as an Arrow table (None when it has none); ValueError on repeated keys."""
    actions = batch.actions
    if actions is None or len(actions) == 0:
        return None
    check_labels(actions, "symbol", batch.symbol, "batch actions")
    ts = ns_to_stored(frame_ts_ns(actions))
    keys = pd.DataFrame({"ts": ts, "kind": actions["kind"].to_numpy(), "source": actions["source"].to_numpy()})
    if keys.duplicated().any():
        raise ValueError(f"batch actions for {batch.symbol} repeat (ts, kind, source) keys")
    return pa.table({
        "ts": ts,
        "kind": actions["kind"].astype(str).to_numpy(),
        "source": actions["source"].astype(str).to_numpy(),
        "value": pa.array(actions["value"].to_numpy(dtype="float64", na_value=np.nan), from_pandas=True),
        "description": actions["description"].fillna("").astype(str).to_numpy(),
    })


# -- upserts -----------------------------------------------------------------------------


def upsert_rows(
    con: duckdb.DuckDBPyConnection, batch: Batch, incoming: pa.Table, at: datetime
) -> tuple[int, int]:
    """Update changed rows, insert new ones; returns (added, updated)."""
    if incoming.num_rows == 0:
        return 0, 0
    ticks = batch.is_ticks
    if ticks:
        table, values, key_cols = "tick_rows", TICK_VALUES, ("ts", "seq")
        label_cols, series_sql = "series", "t.series = ?"
        series: list[Any] = [tick_series_id(con, batch.symbol, batch.source)]
    else:
        table, values, key_cols = "bars", BAR_VALUES, ("ts",)
        label_cols, series_sql = "symbol, source, timeframe", "t.symbol = ? AND t.source = ? AND t.timeframe = ?"
        series = [batch.symbol, batch.source, batch.timeframe]
    lo, hi = incoming.column("ts")[0].as_py(), incoming.column("ts")[-1].as_py()
    con.register("incoming", incoming)
    try:
        (existing,) = con.execute(
            f"SELECT count(*) FROM {table} t WHERE {series_sql} AND t.ts BETWEEN ? AND ?", [*series, lo, hi]
        ).fetchall()[0]
        updated = 0
        key_match = " AND ".join(f"t.{k} = i.{k}" for k in key_cols)
        if existing:
            changed = " OR ".join(f"t.{v} IS DISTINCT FROM i.{v}" for v in values)
            (updated,) = con.execute(
                f"""UPDATE {table} AS t SET {', '.join(f'{v} = i.{v}' for v in values)}, ingested_at = ?
                    FROM incoming AS i
                    WHERE {series_sql} AND t.ts BETWEEN ? AND ? AND {key_match} AND ({changed})""",
                [at, *series, lo, hi],
            ).fetchall()[0]
        insert_cols = f"{label_cols}, {', '.join(key_cols)}, {', '.join(values)}, ingested_at"
        select = ", ".join(["?"] * len(series) + [f"i.{k}" for k in (*key_cols, *values)])
        anti = ""
        params: list[Any] = [*series, at]
        if existing:
            anti = (f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {series_sql} "
                    f"AND t.ts BETWEEN ? AND ? AND {key_match})")
            params += [*series, lo, hi]
        (added,) = con.execute(
            f"INSERT INTO {table} ({insert_cols}) SELECT {select}, ? FROM incoming AS i{anti}", params
        ).fetchall()[0]
    finally:
        con.unregister("incoming")
    return int(added), int(updated)


def tick_series_id(con: duckdb.DuckDBPyConnection, symbol: str, source: str) -> int:
    """The id of the (symbol, source) tick series, created (in the caller's transaction) if new."""
    found = con.execute("SELECT series FROM tick_series WHERE symbol = ? AND source = ?", [symbol, source]).fetchall()
    if found:
        return int(found[0][0])
    (next_id,) = con.execute("SELECT CAST(coalesce(max(series), 0) AS INTEGER) + 1 FROM tick_series").fetchall()[0]
    if next_id > MAX_TICK_SERIES:
        raise ValueError(f"tick_series is full ({MAX_TICK_SERIES} series); cannot add {symbol}/{source}")
    con.execute("INSERT INTO tick_series VALUES (?, ?, ?)", [next_id, symbol, source])
    return int(next_id)


def upsert_actions(
    con: duckdb.DuckDBPyConnection, batch: Batch, actions: pa.Table | None, at: datetime
) -> tuple[int, int]:
    """Upsert corporate actions by (symbol, ts, kind, source); returns (added, updated)."""
    if actions is None:
        return 0, 0
    con.register("incoming_actions", actions)
    try:
        key_match = "a.symbol = ? AND a.ts = i.ts AND a.kind = i.kind AND a.source = i.source"
        changed = " OR ".join(f"a.{v} IS DISTINCT FROM i.{v}" for v in ACTION_VALUES)
        (updated,) = con.execute(
            f"""SELECT count(*) FROM incoming_actions i JOIN corporate_actions a ON {key_match}
                WHERE {changed}""",
            [batch.symbol],
        ).fetchall()[0]
        (existing,) = con.execute(
            f"SELECT count(*) FROM incoming_actions i JOIN corporate_actions a ON {key_match}", [batch.symbol]
        ).fetchall()[0]
        con.execute(
            """INSERT INTO corporate_actions (symbol, ts, kind, value, description, source, ingested_at)
               SELECT ?, ts, kind, value, description, source, ? FROM incoming_actions
               ON CONFLICT (symbol, ts, kind, source) DO UPDATE
               SET value = excluded.value, description = excluded.description, ingested_at = excluded.ingested_at
               WHERE corporate_actions.value IS DISTINCT FROM excluded.value
                  OR corporate_actions.description IS DISTINCT FROM excluded.description""",
            [batch.symbol, at],
        )
    finally:
        con.unregister("incoming_actions")
    return actions.num_rows - int(existing), int(updated)
