"""``tradeloom ingest`` end to end: the issue's example command against a local mirror, then a read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_ingest_dukascopy_example_command(tmp_path: Path, fixtures: Path):
    home = tmp_path / "home"
    # No server at this address: the command must run on one temporary Prefect API and say so.
    env = {**os.environ, "TRADELOOM_HOME": str(home), "TRADELOOM_PREFECT_API_URL": "http://127.0.0.1:9/api",
           "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    tradeloom = str(Path(sys.executable).with_name("tradeloom"))

    done = subprocess.run(
        [tradeloom, "ingest", "dukascopy", "--symbol", "EURUSD", "--start", "2019-02-04T00:00", "--end", "2019-02-04T03:00",
         "--base-url", str(fixtures / "dukascopy" / "datafeed"), "--api", "legacy", "--json"],
        env=env, capture_output=True, text=True, timeout=600,
    )

    assert done.returncode == 0, done.stderr
    assert "temporary" in done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True
    assert [(u["symbol"], u["timeframe"], u["rows_added"]) for u in result["units"]] == [("EURUSD", "tick", 3733)]

    read = subprocess.run([tradeloom, "data", "ticks", "--symbol", "EURUSD", "--start", "2019-02-04T00:59:59", "--json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert read.returncode == 0, read.stderr
    last = json.loads(read.stdout)[-1]
    assert (last["ts"], last["ask"], last["bid"]) == ("2019-02-04T00:59:59.808000+00:00", 1.14559, 1.14555)
