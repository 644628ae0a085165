"""Ingestion flows under Prefect: idempotent storage, quarantine, fallback, retries, artifacts."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from tests.vendor_http import Reply
from tradeloom.data.store import MarketStore
from tradeloom.flows.ingest import ingest_dukascopy, ingest_instrument, ingest_yahoo
from tradeloom.flows.sample import SAMPLE_DIR


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def store(home: Path) -> MarketStore:
    return MarketStore(home / "market.duckdb")


def yahoo_body(fixtures: Path, name: str) -> dict:
    wrapper = json.loads((fixtures / "yahoo" / "node-yahoo-finance2" / name).read_text())
    response = wrapper["response"]
    return response.get("bodyJson") or json.loads(response["body"])


def test_dukascopy_ticks_are_stored_once_however_often_the_flow_runs(home, fixtures):
    mirror = str(fixtures / "dukascopy" / "datafeed")
    params = dict(symbols=["EURUSD"], timeframes=["tick"], start=utc(2019, 2, 4), end=utc(2019, 2, 4, 3),
                  base_url=mirror, api="legacy")

    first = ingest_dukascopy(**params)
    second = ingest_dukascopy(**params)

    assert first["ok"] and [u["rows_added"] for u in first["units"]] == [3733]
    assert [u["rows_added"] for u in second["units"]] == [0]
    ticks = store(home).ticks("EURUSD")
    assert len(ticks) == 3733
    assert ticks["ts"].iloc[-1] == pd.Timestamp("2019-02-04T00:59:59.808Z")
    assert (ticks["ask"].iloc[0], ticks["bid"].iloc[0]) == (1.14545, 1.14543)
    assert store(home).watermark("dukascopy", "EURUSD", "tick") == utc(2019, 2, 4, 0, 59, 59, 808000)


def test_a_corrupt_batch_is_quarantined_whole_and_the_run_fails_naming_the_check(home, fixtures, tmp_path):
    body = yahoo_body(fixtures, "chart-BTC-USD-2020-01-01-to-2020-01-03.json")
    quote = body["chart"]["result"][0]["indicators"]["quote"][0]
    quote["high"][1] = quote["low"][1] - 1.0  # one bar whose high is below its low, open and close
    mirror = tmp_path / "yahoo"
    (mirror / "v8" / "finance" / "chart").mkdir(parents=True)
    (mirror / "v8" / "finance" / "chart" / "BTC-USD").write_text(json.dumps(body))

    state = ingest_yahoo(symbols=["BTCUSD"], timeframes=["1d"], start=utc(2020, 1, 1), end=utc(2020, 1, 3),
                         base_url=str(mirror), return_state=True)

    assert state.is_failed()
    message = state.message or str(state.result(raise_on_failure=False))
    assert "yahoo BTCUSD 1d 2020-01-01 00:00..2020-01-03 00:00: quarantined: 2 expectation(s) failed on 2 rows" in message
    assert "expect_column_pair_values_a_to_be_greater_than_b(high,open) [high >= open; e.g." in message
    assert "expect_column_pair_values_a_to_be_greater_than_b(high,close) [high >= close; e.g." in message
    assert message.count(": 1 row") == 2
    assert store(home).bars("BTCUSD", "1d").empty
    records = store(home).quarantined()
    assert len(records) == 1 and records[0].source == "yahoo" and records[0].rows == 2
    assert any(check["unexpected_count"] == 1 for check in records[0].failed_checks)
    assert any(records[0].payload_dir.iterdir())


def test_priority_falls_back_when_the_first_source_has_no_data(home, fixtures, tmp_path, vendor, monkeypatch):
    # Dukascopy answers 404 (no data) for every file, so Yahoo, next in priority, delivers.
    mirror = tmp_path / "yahoo"
    (mirror / "v8" / "finance" / "chart").mkdir(parents=True)
    (mirror / "v8" / "finance" / "chart" / "EURUSD=X").write_text(
        json.dumps(yahoo_body(fixtures, "chart-EURUSD=X-2020-01-01-to-2020-01-03.json")))
    monkeypatch.setenv("TRADELOOM_DUKASCOPY_API", "legacy")
    monkeypatch.setenv("TRADELOOM_DUKASCOPY_LEGACY_URL", vendor.url)
    monkeypatch.setenv("TRADELOOM_YAHOO_URL", str(mirror))
    monkeypatch.setenv("TRADELOOM_SOURCE_PRIORITY", '{"EURUSD:1d": ["dukascopy", "yahoo", "alphavantage"]}')

    result = ingest_instrument(symbol="EURUSD", timeframe="1d", start=utc(2020, 1, 1), end=utc(2020, 1, 4))

    assert [u["source"] for u in result["units"]] == ["yahoo"]
    assert result["units"][0]["rows_added"] == 3
    bars = store(home).bars("EURUSD", "1d")
    assert len(bars) == 3 and set(bars["source"]) == {"yahoo"}
    assert "/EURUSD/2020/BID_candles_day_1.bi5" in [r.path for r in vendor.requests]


def test_a_503_is_retried_and_then_ingested(home, fixtures, vendor):
    hour = (fixtures / "dukascopy" / "datafeed" / "EURUSD" / "2019" / "01" / "04" / "13h_ticks.bi5").read_bytes()
    vendor.route("/EURUSD/2019/01/04/13h_ticks.bi5", Reply(503, b"Service Unavailable"), Reply(200, hour))

    result = ingest_dukascopy(symbols=["EURUSD"], timeframes=["tick"], start=utc(2019, 2, 4, 13), end=utc(2019, 2, 4, 14),
                              base_url=vendor.url, api="legacy")

    assert [u["rows_added"] for u in result["units"]] == [7763]
    assert [r.path for r in vendor.requests].count("/EURUSD/2019/01/04/13h_ticks.bi5") == 2


def test_each_run_publishes_a_markdown_artifact(home, fixtures):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    ingest_dukascopy(symbols=["EURUSD"], timeframes=["1h"], start=utc(2019, 2, 1), end=utc(2019, 3, 1),
                     base_url=str(fixtures / "dukascopy" / "datafeed"), api="legacy")

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-dukascopy"])))
    latest = max(artifacts, key=lambda a: a.created)
    assert "| dukascopy | EURUSD | 1h | 480 | 0 | 0 |" in latest.data


def test_a_failure_after_the_fetch_fails_only_its_unit_and_still_publishes(home, fixtures):
    # 1wk is a timeframe Yahoo serves but the bar grid does not know: that unit fails, by name.
    state = ingest_yahoo(symbols=["AAPL"], timeframes=["1wk"], start=utc(2020, 8, 31), end=utc(2020, 11, 7),
                         base_url=str(SAMPLE_DIR / "yahoo"), return_state=True)
    assert state.is_failed()
    message = state.message or str(state.result(raise_on_failure=False))
    assert "yahoo AAPL 1wk 2020-08-31 00:00..2020-11-07 00:00: failed: ValueError: unknown timeframe '1wk'" in message
    assert store(home).status()["series"] == []
