"""MarketStore against a real DuckDB file: idempotent upserts, watermarks, priority reads, status, quarantine."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tradeloom.data.frames import Batch, RawPayload, actions_frame, bars_frame, ticks_frame
from tradeloom.data.store import MarketStore, StoreWrite

UTC = timezone.utc
T0 = datetime(2019, 2, 4, tzinfo=UTC)
AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def bar_batch(
    n: int = 5, start: datetime = T0, source: str = "dukascopy", symbol: str = "EURUSD", timeframe: str = "1m",
    close: float = 1.1, step: timedelta = timedelta(minutes=1),
) -> Batch:
    ts = [start + i * step for i in range(n)]
    frame = bars_frame(pd.DataFrame({
        "symbol": symbol, "timeframe": timeframe, "ts": pd.to_datetime(ts, utc=True),
        "open": 1.0 + np.arange(n) / 1000, "high": 1.2, "low": 0.9, "close": close,
        "volume": 10.0, "source": source,
    }))
    return Batch(source, symbol, timeframe, frame)


def tick_batch(ts_ms: list[int] | np.ndarray, symbol: str = "EURUSD", source: str = "dukascopy") -> Batch:
    n = len(ts_ms)
    frame = ticks_frame(pd.DataFrame({
        "symbol": symbol, "ts": pd.to_datetime(np.array(ts_ms, dtype="int64"), unit="ms", utc=True),
        "bid": 1.1 + np.arange(n) / 1e5, "ask": 1.1002 + np.arange(n) / 1e5,
        "bid_volume": 1.5, "ask_volume": 2.25, "source": source,
    }))
    return Batch(source, symbol, "tick", frame)


def table(store: MarketStore, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def store(tmp_path: Path) -> MarketStore:
    return MarketStore(tmp_path / "market.duckdb", lock_timeout=5.0)


def test_ingesting_the_same_batch_twice_adds_nothing_the_second_time(store: MarketStore) -> None:
    batch = bar_batch(5)
    first = store.write_batch(batch, AT)
    rows_after_first = table(store, "SELECT * FROM bars ORDER BY ts")
    second = store.write_batch(batch, AT + timedelta(hours=1))

    assert (first.rows_added, first.rows_updated) == (5, 0)
    assert (second.rows_added, second.rows_updated) == (0, 0)
    assert table(store, "SELECT * FROM bars ORDER BY ts") == rows_after_first
    assert len(rows_after_first) == 5


def test_frames_round_trip_exactly(store: MarketStore) -> None:
    batch = bar_batch(5)
    batch.frame.loc[2, "adj_close"] = 1.05
    store.write_batch(batch, AT)

    pd.testing.assert_frame_equal(store.bars("EURUSD", "1m"), batch.frame)


def test_a_corrected_bar_is_updated_and_counted(store: MarketStore) -> None:
    store.write_batch(bar_batch(5), AT)
    corrected = bar_batch(5)
    corrected.frame.loc[3, "close"] = 1.15
    later = AT + timedelta(days=1)

    result = store.write_batch(corrected, later)

    assert (result.rows_added, result.rows_updated) == (0, 1)
    rows = table(store, "SELECT ts, close, ingested_at FROM bars ORDER BY ts")
    assert [r[1] for r in rows] == [1.1, 1.1, 1.1, 1.15, 1.1]
    assert [r[2] for r in rows] == [AT.replace(tzinfo=None)] * 3 + [later.replace(tzinfo=None)] + [AT.replace(tzinfo=None)]


def test_overlapping_batch_counts_new_and_changed_rows_exactly(store: MarketStore) -> None:
    store.write_batch(bar_batch(5), AT)
    overlap = bar_batch(5, start=T0 + timedelta(minutes=3), close=1.12)  # 2 old ts (changed), 3 new

    result = store.write_batch(overlap, AT)

    assert (result.rows_added, result.rows_updated) == (3, 2)
    assert table(store, "SELECT count(*) FROM bars") == [(8,)]


def test_watermark_moves_forward_only(store: MarketStore) -> None:
    assert store.watermark("dukascopy", "EURUSD", "1m") is None
    late = store.write_batch(bar_batch(3, start=T0 + timedelta(hours=1)), AT)
    early = store.write_batch(bar_batch(3), AT)  # a backfill of earlier bars

    assert late.watermark_before is None
    assert late.watermark_after == datetime(2019, 2, 4, 1, 2, tzinfo=UTC)
    assert (early.rows_added, early.watermark_before, early.watermark_after) == (
        3, late.watermark_after, late.watermark_after)
    assert store.watermark("dukascopy", "EURUSD", "1m") == datetime(2019, 2, 4, 1, 2, tzinfo=UTC)
    assert store.watermark("yahoo", "EURUSD", "1m") is None


def test_provisional_rows_are_stored_without_moving_the_watermark(store: MarketStore) -> None:
    store.write_batch(bar_batch(2), AT)
    provisional = bar_batch(3, start=T0 + timedelta(hours=2), close=1.13)

    result = store.write_batch(provisional, AT, advance_watermark=False)

    assert (result.rows_added, result.watermark_before, result.watermark_after) == (3, T0 + timedelta(minutes=1),
                                                                                    T0 + timedelta(minutes=1))
    assert store.watermark("dukascopy", "EURUSD", "1m") == T0 + timedelta(minutes=1)
    # The vendor's own bars, written later, replace the provisional ones and move the watermark.
    final = store.write_batch(bar_batch(3, start=T0 + timedelta(hours=2), close=1.14), AT)
    assert (final.rows_added, final.rows_updated, final.watermark_after) == (0, 3, T0 + timedelta(hours=2, minutes=2))
    assert store.bars("EURUSD", "1m")["close"].tolist() == [1.1, 1.1, 1.14, 1.14, 1.14]


def test_ticks_and_their_provisional_bars_are_written_in_one_transaction(store: MarketStore) -> None:
    ticks = tick_batch([0, 30_000, 61_000])
    bars = bar_batch(2)

    results = store.write_batches([StoreWrite(ticks), StoreWrite(bars, advance_watermark=False)], AT)

    assert [(r.rows_added, r.watermark_before, r.watermark_after) for r in results] == [
        (3, None, datetime(1970, 1, 1, 0, 1, 1, tzinfo=UTC)), (2, None, None)]
    assert len(store.ticks("EURUSD")) == 3 and len(store.bars("EURUSD", "1m")) == 2
    assert store.watermark("dukascopy", "EURUSD", "1m") is None


def test_a_write_that_fails_inside_the_transaction_leaves_none_of_the_batches(store: MarketStore) -> None:
    store.write_batch(bar_batch(1), AT)  # creates the file and its tables
    con = duckdb.connect(str(store.path))
    con.execute("INSERT INTO tick_series SELECT CAST(i AS SMALLINT), 'X' || i, 'filler' FROM range(1, 32768) t(i)")
    con.close()

    with pytest.raises(ValueError, match="tick_series is full"):
        # The bars are upserted first; the ticks' new series then cannot be created.
        store.write_batches([StoreWrite(bar_batch(3, start=T0 + timedelta(hours=1))), StoreWrite(tick_batch([0]))], AT)

    assert len(store.bars("EURUSD", "1m")) == 1
    assert store.watermark("dukascopy", "EURUSD", "1m") == T0


def test_a_bad_batch_among_several_is_refused_before_the_store_is_touched(store: MarketStore) -> None:
    naive = bar_batch(2)
    naive.frame["ts"] = naive.frame["ts"].dt.tz_localize(None)

    with pytest.raises(ValueError, match="tz-aware"):
        store.write_batches([StoreWrite(bar_batch(3)), StoreWrite(naive)], AT)

    assert not store.path.exists()


def test_empty_batch_writes_nothing_and_keeps_the_watermark(store: MarketStore) -> None:
    store.write_batch(bar_batch(2), AT)
    empty = Batch("dukascopy", "EURUSD", "1m", bars_frame())

    result = store.write_batch(empty, AT)

    assert result == type(result)(0, 0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1))


def test_ticks_sharing_a_millisecond_are_all_kept_in_order(store: MarketStore) -> None:
    batch = tick_batch([1_549_238_400_994, 1_549_238_401_271, 1_549_238_401_271, 1_549_238_401_464])

    first = store.write_batch(batch, AT)
    again = store.write_batch(batch, AT)

    assert (first.rows_added, again.rows_added, again.rows_updated) == (4, 0, 0)
    assert first.watermark_after == datetime(2019, 2, 4, 0, 0, 1, 464000, tzinfo=UTC)
    assert store.watermark("dukascopy", "EURUSD", "tick") == first.watermark_after
    pd.testing.assert_frame_equal(store.ticks("EURUSD"), batch.frame)


def test_tick_reads_filter_by_half_open_range(store: MarketStore) -> None:
    store.write_batch(tick_batch([1_549_238_400_000 + 1000 * i for i in range(10)]), AT)

    got = store.ticks("EURUSD", start=T0 + timedelta(seconds=2), end=T0 + timedelta(seconds=5))

    assert [t.second for t in got["ts"]] == [2, 3, 4]


def test_a_large_tick_batch_rewritten_with_one_change_counts_one_update(store: MarketStore) -> None:
    n = 200_000
    batch = tick_batch(1_549_238_400_000 + np.arange(n, dtype=np.int64))

    first = store.write_batch(batch, AT)
    batch.frame.loc[n - 1, "bid"] = 1.0
    second = store.write_batch(batch, AT)

    assert (first.rows_added, second.rows_added, second.rows_updated) == (n, 0, 1)
    assert table(store, "SELECT count(*), min(seq), max(seq) FROM ticks") == [(n, 0, 0)]


def test_priority_read_picks_the_first_listed_source_per_ts(store: MarketStore) -> None:
    store.write_batch(bar_batch(4, source="yahoo", close=1.2), AT)  # 00:00-00:03
    store.write_batch(bar_batch(2, start=T0 + timedelta(minutes=1), source="dukascopy", close=1.1), AT)  # 00:01-00:02
    store.write_batch(bar_batch(5, source="alphavantage", close=1.3), AT)  # 00:00-00:04

    chart = store.bars("EURUSD", "1m", priority=["dukascopy", "yahoo", "alphavantage"])
    only_two = store.bars("EURUSD", "1m", priority=["alphavantage", "dukascopy"])

    assert list(zip(chart["ts"].dt.minute, chart["source"], chart["close"])) == [
        (0, "yahoo", 1.2), (1, "dukascopy", 1.1), (2, "dukascopy", 1.1), (3, "yahoo", 1.2), (4, "alphavantage", 1.3)]
    assert list(only_two["source"]) == ["alphavantage"] * 5
    assert len(store.bars("EURUSD", "1m")) == 11
    assert list(store.bars("EURUSD", "1m", source="dukascopy")["ts"].dt.minute) == [1, 2]


def test_bars_range_is_start_inclusive_end_exclusive(store: MarketStore) -> None:
    store.write_batch(bar_batch(10), AT)

    got = store.bars("EURUSD", "1m", start=T0 + timedelta(minutes=2), end=T0 + timedelta(minutes=5))

    assert list(got["ts"].dt.minute) == [2, 3, 4]


def test_status_of_a_small_store(store: MarketStore) -> None:
    store.write_batch(bar_batch(3), AT)
    store.write_batch(bar_batch(2, source="yahoo", timeframe="1d", step=timedelta(days=1)), AT)
    store.write_batch(tick_batch([1_549_238_400_994, 1_549_238_401_271]), AT)
    actions = actions_frame(pd.DataFrame({
        "symbol": ["EURUSD"], "ts": [pd.Timestamp("2019-02-04", tz="UTC")], "kind": ["dividend"],
        "value": [0.5], "source": ["yahoo"]}))
    store.write_batch(Batch("yahoo", "EURUSD", "1d", bars_frame(), actions=actions), AT)
    record = store.quarantine(bar_batch(1, source="yahoo"), "high < close", [{"expectation": "x"}], AT)

    status = store.status()

    assert json.loads(json.dumps(status)) == status
    assert status == {
        "store": str(store.path),
        "series": [
            {"kind": "bars", "symbol": "EURUSD", "timeframe": "1d", "source": "yahoo", "rows": 2,
             "first_ts": "2019-02-04T00:00:00+00:00", "last_ts": "2019-02-05T00:00:00+00:00",
             "watermark": "2019-02-05T00:00:00+00:00"},
            {"kind": "bars", "symbol": "EURUSD", "timeframe": "1m", "source": "dukascopy", "rows": 3,
             "first_ts": "2019-02-04T00:00:00+00:00", "last_ts": "2019-02-04T00:02:00+00:00",
             "watermark": "2019-02-04T00:02:00+00:00"},
            {"kind": "ticks", "symbol": "EURUSD", "timeframe": "tick", "source": "dukascopy", "rows": 2,
             "first_ts": "2019-02-04T00:00:00.994000+00:00", "last_ts": "2019-02-04T00:00:01.271000+00:00",
             "watermark": "2019-02-04T00:00:01.271000+00:00"},
        ],
        "corporate_actions": [
            {"symbol": "EURUSD", "source": "yahoo", "rows": 1,
             "first_ts": "2019-02-04T00:00:00+00:00", "last_ts": "2019-02-04T00:00:00+00:00"},
        ],
        "quarantined": [
            {"batch_id": record.batch_id, "source": "yahoo", "symbol": "EURUSD", "timeframe": "1m",
             "reason": "high < close", "failed_checks": [{"expectation": "x"}],
             "payload_dir": str(record.payload_dir), "rows": 1, "quarantined_at": "2024-05-01T12:00:00+00:00"},
        ],
    }


def test_corporate_actions_are_upserted_by_key(store: MarketStore) -> None:
    def actions(value: float) -> pd.DataFrame:
        return actions_frame(pd.DataFrame({
            "symbol": ["AAPL", "AAPL"], "ts": pd.to_datetime(["2020-08-31", "2020-11-06"], utc=True),
            "kind": ["split", "dividend"], "value": [4.0, value], "description": ["4:1", ""],
            "source": ["yahoo", "yahoo"]}))

    first = store.write_batch(Batch("yahoo", "AAPL", "1d", bars_frame(), actions=actions(0.205)), AT)
    same = store.write_batch(Batch("yahoo", "AAPL", "1d", bars_frame(), actions=actions(0.205)), AT)
    fixed = store.write_batch(Batch("yahoo", "AAPL", "1d", bars_frame(), actions=actions(0.21)), AT)

    assert [(r.actions_added, r.actions_updated) for r in (first, same, fixed)] == [(2, 0), (0, 0), (0, 1)]
    assert table(store, "SELECT kind, value, description FROM corporate_actions ORDER BY ts") == [
        ("split", 4.0, "4:1"), ("dividend", 0.21, "")]


def test_quarantine_keeps_payloads_and_stores_no_rows(store: MarketStore) -> None:
    batch = bar_batch(3)
    batch = Batch(batch.source, batch.symbol, batch.timeframe, batch.frame,
                  raw=(RawPayload("/datafeed/EURUSD/2019/01/04/BID_candles_min_1.bi5", b"\x5d\x00raw"),))
    checks = [{"expectation": "expect_column_pair_values_a_to_be_greater_than_b", "column": "high,close",
               "unexpected_count": 1, "detail": "high >= close"}]

    record = store.quarantine(batch, "validation failed", checks, AT)

    assert table(store, "SELECT count(*) FROM bars") == [(0,)]
    assert store.watermark("dukascopy", "EURUSD", "1m") is None
    assert record.payload_dir == store.path.parent / "quarantine" / record.batch_id
    assert (record.rows, record.failed_checks, record.quarantined_at) == (3, checks, AT)
    assert (record.payload_dir / "raw" / "0000-datafeed_EURUSD_2019_01_04_BID_candles_min_1.bi5").read_bytes() == b"\x5d\x00raw"
    pd.testing.assert_frame_equal(bars_frame(pd.read_parquet(record.payload_dir / "frame.parquet")), batch.frame)
    assert json.loads((record.payload_dir / "manifest.json").read_text())["failed_checks"] == checks
    assert store.quarantined() == [record]


def test_reading_a_store_that_does_not_exist_yet(tmp_path: Path) -> None:
    store = MarketStore(tmp_path / "none" / "market.duckdb")

    assert store.bars("EURUSD", "1m").empty and store.ticks("EURUSD").empty
    assert store.watermark("dukascopy", "EURUSD", "1m") is None
    assert store.quarantined() == []
    assert store.status()["series"] == []
    assert not store.path.exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Batch("dukascopy", "EURUSD", "1m", bar_batch(2, symbol="GBPUSD").frame),
         "holds rows with symbol ['GBPUSD']"),
        (lambda: Batch("dukascopy", "EURUSD", "1m", pd.concat([bar_batch(2).frame] * 2, ignore_index=True)),
         "repeats 2 ts"),
        (lambda: Batch("dukascopy", "EURUSD", "7m", bar_batch(2).frame), "unknown timeframe '7m'"),
    ],
)
def test_bad_batches_are_refused_with_a_clear_error(store: MarketStore, make, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        store.write_batch(make(), AT)


def test_naive_datetimes_are_refused(store: MarketStore) -> None:
    with pytest.raises(ValueError, match="ingested_at must be timezone-aware"):
        store.write_batch(bar_batch(1), datetime(2024, 1, 1))
    store.write_batch(bar_batch(1), AT)
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        store.bars("EURUSD", "1m", start=datetime(2019, 2, 4))


def test_a_named_source_overrides_priority(store: MarketStore) -> None:
    store.write_batch(bar_batch(2, source="yahoo", close=1.2), AT)
    store.write_batch(bar_batch(2, source="alphavantage", close=1.3), AT)

    got = store.bars("EURUSD", "1m", source="alphavantage", priority=["yahoo"])

    assert list(zip(got["source"], got["close"])) == [("alphavantage", 1.3)] * 2


def test_empty_priority_is_refused(store: MarketStore) -> None:
    with pytest.raises(ValueError, match="non-empty sequence"):
        store.bars("EURUSD", "1m", priority=[])
    with pytest.raises(ValueError, match="non-empty sequence"):
        store.bars("EURUSD", "1m", priority="yahoo")


def test_a_frame_parquet_refuses_is_kept_as_csv(store: MarketStore) -> None:
    batch = bar_batch(2)
    broken = batch.frame.assign(volume=pd.Series([10.0, {"not": "a number"}], dtype=object))

    record = store.quarantine(Batch("dukascopy", "EURUSD", "1m", broken), "unreadable volume", [], AT)

    assert sorted(p.name for p in record.payload_dir.iterdir()) == ["frame.csv", "manifest.json", "raw"]
    assert pd.read_csv(record.payload_dir / "frame.csv")["volume"].tolist() == ["10.0", "{'not': 'a number'}"]
