"""A corrupted batch is validated, rejected whole and quarantined with its payloads; a clean one is stored."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from tradeloom.data.frames import Batch, RawPayload, bars_frame
from tradeloom.data.quality import validate_batch
from tradeloom.data.store import MarketStore

AT = datetime(2024, 5, 1, 6, 30, tzinfo=timezone.utc)


def _batch(high_of_row_2: float) -> Batch:
    frame = bars_frame(pd.DataFrame({
        "symbol": "EURUSD", "timeframe": "1h", "ts": pd.date_range("2019-02-04", periods=4, freq="1h", tz="UTC"),
        "open": [1.1454, 1.1456, 1.1452, 1.1449], "high": [1.1460, 1.1461, high_of_row_2, 1.1455],
        "low": [1.1450, 1.1449, 1.1447, 1.1440], "close": [1.1456, 1.1452, 1.1458, 1.1451],
        "volume": 100.0, "source": "dukascopy",
    }))
    raw = (RawPayload("/datafeed/EURUSD/2019/01/BID_candles_hour_1.bi5", b"\x5d\x00\x00\x40\x00candles"),)
    return Batch("dukascopy", "EURUSD", "1h", frame, raw=raw)


def _ingest(store: MarketStore, batch: Batch) -> str:
    """What the ingestion task does: validate, then store or quarantine."""
    report = validate_batch(batch)
    if report.success:
        store.write_batch(batch, AT)
        return "stored"
    store.quarantine(batch, report.summary(), report.failed_checks(), AT)
    return "quarantined"


def test_one_bar_with_high_below_close_rejects_the_whole_batch(tmp_path: Path) -> None:
    store = MarketStore(tmp_path / "market.duckdb")
    corrupted = _batch(high_of_row_2=1.1455)  # close 1.1458 is above it

    assert _ingest(store, corrupted) == "quarantined"

    assert store.bars("EURUSD", "1h").empty
    assert store.watermark("dukascopy", "EURUSD", "1h") is None
    (record,) = store.quarantined()
    assert [(c["expectation"], c["column"], c["unexpected_count"]) for c in record.failed_checks] == [
        ("expect_column_pair_values_a_to_be_greater_than_b", "high,close", 1)]
    assert record.reason == (
        "1 expectation(s) failed on 4 rows: expect_column_pair_values_a_to_be_greater_than_b(high,close) "
        "[high >= close; e.g. (1.1455, 1.1458)]: 1 row")
    assert (record.source, record.symbol, record.timeframe, record.rows) == ("dukascopy", "EURUSD", "1h", 4)
    files = sorted(p.relative_to(record.payload_dir).as_posix() for p in record.payload_dir.rglob("*") if p.is_file())
    assert files == ["frame.parquet", "manifest.json", "raw/0000-datafeed_EURUSD_2019_01_BID_candles_hour_1.bi5"]
    pd.testing.assert_frame_equal(bars_frame(pd.read_parquet(record.payload_dir / "frame.parquet")), corrupted.frame)
    assert store.status()["quarantined"][0]["failed_checks"] == record.failed_checks


def test_the_corrected_batch_is_then_stored(tmp_path: Path) -> None:
    store = MarketStore(tmp_path / "market.duckdb")
    _ingest(store, _batch(high_of_row_2=1.1455))

    assert _ingest(store, _batch(high_of_row_2=1.1462)) == "stored"

    assert list(store.bars("EURUSD", "1h")["high"]) == [1.1460, 1.1461, 1.1462, 1.1455]
    assert len(store.quarantined()) == 1
