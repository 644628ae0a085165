"""The Dukascopy flow's tick units: several days per store write, the next fetched while one is stored,
and provisional 1m bars aggregated from the ticks of the still-open UTC day."""

from __future__ import annotations

import lzma
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from tradeloom.data.store import MarketStore
from tradeloom.flows.ingest import ingest_dukascopy

HOUR_13 = Path("dukascopy", "datafeed", "EURUSD", "2019", "01", "04", "13h_ticks.bi5")  # 2019-02-04 13h, 7763 ticks


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_a_week_of_ticks_is_one_unit_and_one_write_and_a_rerun_adds_nothing(home: Path, fixtures: Path):
    params = dict(symbols=["EURUSD"], timeframes=["tick"], start=utc(2019, 2, 3, 22), end=utc(2019, 2, 12),
                  base_url=str(fixtures / "dukascopy" / "datafeed"), api="legacy")

    first = ingest_dukascopy(**params)
    second = ingest_dukascopy(**params)

    # Default TRADELOOM_DUKASCOPY_TICK_UNIT_DAYS=7: up to the 7th midnight after the start, then the rest.
    assert [(u["start"], u["end"], u["status"], u["rows_added"]) for u in first["units"]] == [
        ("2019-02-03T22:00:00+00:00", "2019-02-10T00:00:00+00:00", "stored", 3733 + 7763 + 2354),
        ("2019-02-10T00:00:00+00:00", "2019-02-12T00:00:00+00:00", "empty", 0),
    ]
    assert [u["rows_added"] for u in second["units"]] == [0, 0]
    market = MarketStore(home / "market.duckdb")
    assert len(market.ticks("EURUSD")) == 13850
    assert market.watermark("dukascopy", "EURUSD", "tick") == utc(2019, 2, 4, 22, 59, 59, 849000)  # 22h's last tick
    assert market.watermark("dukascopy", "EURUSD", "1m") is None  # closed days: bars come from candle files


def test_the_next_unit_is_fetched_while_the_current_one_is_stored(home: Path, fixtures: Path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    monkeypatch.setenv("TRADELOOM_DUKASCOPY_TICK_UNIT_DAYS", "1")
    state = ingest_dukascopy(symbols=["EURUSD"], timeframes=["tick"], start=utc(2019, 2, 4), end=utc(2019, 2, 6),
                             base_url=str(fixtures / "dukascopy" / "datafeed"), api="legacy", return_state=True)
    assert state.is_completed(), state.message

    runs: list = []
    with get_client(sync_client=True) as client:
        for _ in range(100):  # task run states reach the API asynchronously
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
            finished = [r for r in runs if r.end_time is not None]
            if len([r for r in finished if r.name.startswith(("fetch-dukascopy", "validate-batch", "store-batch"))]) == 5:
                break
            time.sleep(0.1)
    fetches = sorted((r for r in runs if r.name.startswith("fetch-dukascopy")), key=lambda r: r.start_time)
    [first_store] = [r for r in runs if r.name.startswith("store-batch")]  # the second day is empty
    assert len(fetches) == 2
    assert fetches[1].start_time < first_store.end_time
    # Each unit was validated on the task runner too, from its fetch's result.
    assert len([r for r in runs if r.name.startswith("validate-batch")]) == 2


def test_ticks_of_the_open_utc_day_also_become_provisional_1m_bars(home: Path, fixtures: Path, tmp_path: Path):
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    mirror = tmp_path / "datafeed"
    target = mirror / "EURUSD" / f"{today.year}" / f"{today.month - 1:02d}" / f"{today.day:02d}" / "00h_ticks.bi5"
    target.parent.mkdir(parents=True)
    shutil.copyfile(fixtures / HOUR_13, target)  # the vendor's 13h file, served as today's first hour
    records = np.frombuffer(lzma.decompress((fixtures / HOUR_13).read_bytes()), dtype=">u4").reshape(-1, 5)
    minutes = records[:, 0] // 60_000
    bids = records[:, 2] / 100_000  # the second price field is the bid, in 1e-5 for EURUSD
    last_of_minute = np.r_[minutes[1:] != minutes[:-1], True]

    result = ingest_dukascopy(symbols=["EURUSD"], timeframes=["tick"], start=today, end=today + timedelta(hours=1),
                              base_url=str(mirror), api="legacy")

    ticks, bars = result["units"]
    assert (ticks["timeframe"], ticks["status"], ticks["rows_added"]) == ("tick", "stored", 7763)
    assert (bars["timeframe"], bars["status"], bars["rows_added"]) == ("1m", "stored", len(np.unique(minutes)))
    assert bars["message"] == "provisional, from ticks of the open UTC day"
    market = MarketStore(home / "market.duckdb")
    stored = market.bars("EURUSD", "1m", source="dukascopy")
    assert stored["ts"].tolist() == [pd.Timestamp(today) + pd.Timedelta(minutes=int(m)) for m in np.unique(minutes)]
    assert stored["close"].tolist() == bids[last_of_minute].round(5).tolist()
    # Provisional: the 1m watermark stays put, so the candle run still fetches the vendor's file for today.
    assert market.watermark("dukascopy", "EURUSD", "1m") is None
    assert market.watermark("dukascopy", "EURUSD", "tick") is not None
    # Aggregated on the task runner, then stored with the ticks in one write (one transaction, one time stamp).
    with duckdb.connect(str(home / "market.duckdb"), read_only=True) as con:
        stamps = con.execute("SELECT DISTINCT ingested_at FROM ticks UNION SELECT DISTINCT ingested_at FROM bars").fetchall()
    assert len(stamps) == 1


def test_an_incremental_run_stops_at_the_last_whole_minute(home: Path) -> None:
    from tradeloom.flows.ingest import _range_for
    from tradeloom.settings.market import MarketDataSettings
    from tradeloom.settings.platform import PlatformSettings

    now = utc(2026, 7, 13, 12, 30, 15)
    # The minute still running (12:30) is left whole to the next run, whose provisional bars start at it.
    assert _range_for("dukascopy", "EURUSD", "tick", utc(2026, 7, 13, 12), None, PlatformSettings(),
                      MarketDataSettings(), now) == (utc(2026, 7, 13, 12), utc(2026, 7, 13, 12, 30))
    # An explicit end (a backfill) is kept as given.
    assert _range_for("dukascopy", "EURUSD", "tick", utc(2026, 7, 13, 12), now, PlatformSettings(),
                      MarketDataSettings(), now)[1] == now


def test_provisional_bars_that_cannot_be_stored_do_not_cost_the_ticks(home: Path) -> None:
    from prefect import flow

    from tradeloom.data.frames import Batch, bars_frame, ticks_frame
    from tradeloom.data.store import StoreWrite
    from tradeloom.flows.ingest import _store_writes
    from tradeloom.flows.ingest_report import UnitOutcome
    from tradeloom.settings.market import MarketDataSettings
    from tradeloom.settings.platform import PlatformSettings
    from tradeloom.tasks.limits import ensure_limits

    ticks = Batch("dukascopy", "EURUSD", "tick", ticks_frame(pd.DataFrame({
        "symbol": "EURUSD", "ts": pd.to_datetime([1_000, 2_000], unit="ms", utc=True), "bid": [1.1, 1.2],
        "ask": [1.2, 1.3], "bid_volume": 1.0, "ask_volume": 1.0, "source": "dukascopy"})))
    repeated = pd.Timestamp("1970-01-01", tz="UTC")  # two bars at one ts: refused when staged
    bars = Batch("dukascopy", "EURUSD", "1m", bars_frame(pd.DataFrame({
        "symbol": "EURUSD", "timeframe": "1m", "ts": [repeated, repeated], "open": 1.1, "high": 1.2, "low": 1.1,
        "close": 1.2, "volume": 2.0, "source": "dukascopy"})))
    outcomes = [UnitOutcome("dukascopy", "EURUSD", tf, utc(1970, 1, 1), utc(1970, 1, 1, 1), "empty") for tf in ("tick", "1m")]

    @flow
    def store_unit() -> None:
        ensure_limits(MarketDataSettings().alphavantage_calls_per_day)
        _store_writes([(StoreWrite(ticks), outcomes[0]), (StoreWrite(bars, advance_watermark=False), outcomes[1])],
                      PlatformSettings(), MarketDataSettings())

    store_unit()

    assert (outcomes[0].status, outcomes[0].rows_added) == ("stored", 2)
    assert outcomes[1].status == "failed"
    assert outcomes[1].message == "ValueError: bar batch EURUSD/1m repeats 1 ts, first 1970-01-01T00:00:00+00:00"
    market = MarketStore(home / "market.duckdb")
    assert len(market.ticks("EURUSD")) == 2 and market.bars("EURUSD", "1m").empty
