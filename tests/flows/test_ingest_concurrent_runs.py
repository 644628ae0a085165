"""Two whole ingestion flow runs at once into the same market store: both complete, no row is lost."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from tradeloom.data.store import MarketStore
from tradeloom.flows.ingest import ingest_dukascopy


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_two_overlapping_dukascopy_runs_at_once_both_complete_with_every_row(home: Path, fixtures: Path) -> None:
    # The mirror holds the 00h, 13h and 22h tick hours of 2019-02-04 (3733, 7763, 2354 ticks) and
    # that day's 1440 one-minute bars. The runs overlap on 13:00-14:00; each stores ticks then 1m bars.
    mirror = str(fixtures / "dukascopy" / "datafeed")
    ranges = [(utc(2019, 2, 4, 0), utc(2019, 2, 4, 14)), (utc(2019, 2, 4, 13), utc(2019, 2, 4, 23))]
    together = threading.Barrier(len(ranges))
    spans: list[tuple[float, float]] = []

    def run(span: tuple[datetime, datetime]):  # noqa: ANN202 (a Prefect State)
        together.wait()
        began = time.monotonic()
        state = ingest_dukascopy(symbols=["EURUSD"], timeframes=["tick", "1m"], start=span[0], end=span[1],
                                 base_url=mirror, api="legacy", return_state=True)
        spans.append((began, time.monotonic()))
        return state

    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        states = list(pool.map(run, ranges))

    assert [state.type.value for state in states] == ["COMPLETED", "COMPLETED"]
    (first_began, first_ended), (second_began, second_ended) = spans
    assert first_began < second_ended and second_began < first_ended, "the two runs did not overlap"
    units = [unit for state in states for unit in state.result()["units"]]
    added = {"tick": 0, "1m": 0}
    for unit in units:
        assert unit["status"] == "stored", unit
        added[unit["timeframe"]] += unit["rows_added"]
    assert added == {"tick": 3733 + 7763 + 2354, "1m": 14 * 60 + 9 * 60}

    store = MarketStore(home / "market.duckdb")
    ticks = store.ticks("EURUSD")
    assert len(ticks) == 13850 and ticks["ts"].is_unique
    assert ticks["ts"].iloc[0] == pd.Timestamp("2019-02-04T00:00:00.994Z")
    assert (ticks["ts"] >= pd.Timestamp("2019-02-04T13:00:00.092Z")).sum() == 7763 + 2354
    bars = store.bars("EURUSD", "1m")
    assert len(bars) == 1380 and bars["ts"].is_unique
    assert (bars["ts"].iloc[0], bars["ts"].iloc[-1]) == (pd.Timestamp("2019-02-04T00:00Z"), pd.Timestamp("2019-02-04T22:59Z"))
    # Whichever run committed last, the watermarks are the latest rows stored, never moved back.
    assert store.watermark("dukascopy", "EURUSD", "tick") == ticks["ts"].iloc[-1].to_pydatetime()
    assert store.watermark("dukascopy", "EURUSD", "1m") == utc(2019, 2, 4, 22, 59)
