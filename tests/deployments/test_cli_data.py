"""``tradeloom data``: answers from the store, in JSON, CSV or Parquet, without starting Prefect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from tradeloom.data.frames import Batch, bars_frame
from tradeloom.data.store import MarketStore

SCRIPT = """
import sys
from tradeloom.deployments.cli import app
try:
    app(sys.argv[1:])
except SystemExit as done:
    assert 'prefect' not in sys.modules, 'a reading command imported prefect'
    raise
"""


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRADELOOM_HOME": str(home)}
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def filled_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    frame = pd.DataFrame({
        "symbol": "EURUSD", "timeframe": "1h", "source": "dukascopy",
        "ts": pd.to_datetime(["2019-02-04T00:00Z", "2019-02-04T01:00Z", "2019-02-04T02:00Z"]),
        "open": [1.1, 1.2, 1.3], "high": [1.15, 1.25, 1.35], "low": [1.05, 1.15, 1.25], "close": [1.12, 1.22, 1.32],
        "volume": [10.0, 20.0, 30.0],
    })
    MarketStore(home / "market.duckdb").write_batch(
        Batch("dukascopy", "EURUSD", "1h", bars_frame(frame)), ingested_at=datetime(2026, 11, 21, tzinfo=timezone.utc))
    return home


def test_bars_as_json_without_prefect(filled_home):
    done = run_cli(filled_home, "data", "bars", "--symbol", "EURUSD", "--timeframe", "1h",
                   "--start", "2019-02-04T01:00", "--end", "2019-02-04T03:00", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["ts"], r["close"], r["source"]) for r in rows] == [
        ("2019-02-04T01:00:00+00:00", 1.22, "dukascopy"), ("2019-02-04T02:00:00+00:00", 1.32, "dukascopy")]


def test_bars_to_csv_and_parquet(filled_home, tmp_path):
    csv, parquet = tmp_path / "bars.csv", tmp_path / "bars.parquet"
    done = run_cli(filled_home, "data", "bars", "--symbol", "EURUSD", "--timeframe", "1h", "--csv", str(csv), "--parquet", str(parquet))
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(csv)["close"].tolist() == [1.12, 1.22, 1.32]
    assert pd.read_parquet(parquet)["volume"].tolist() == [10.0, 20.0, 30.0]


def test_status_json_lists_rows_and_watermarks(filled_home):
    done = run_cli(filled_home, "data", "status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["series"] == [{
        "kind": "bars", "symbol": "EURUSD", "timeframe": "1h", "source": "dukascopy", "rows": 3,
        "first_ts": "2019-02-04T00:00:00+00:00", "last_ts": "2019-02-04T02:00:00+00:00",
        "watermark": "2019-02-04T02:00:00+00:00",
    }]
    assert status["quarantined"] == [] and status["corporate_actions"] == []


def test_a_missing_store_is_named_or_reported_empty(tmp_path):
    done = run_cli(tmp_path, "data", "bars", "--symbol", "EURUSD", "--timeframe", "1h")
    assert done.returncode == 1
    assert "no market store" in done.stderr
    status = run_cli(tmp_path, "data", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["series"] == []


def test_a_bad_date_is_named(filled_home):
    done = run_cli(filled_home, "data", "bars", "--symbol", "EURUSD", "--timeframe", "1h", "--start", "yesterday")
    assert done.returncode == 2
    assert "'yesterday' is not an ISO date" in done.stderr
