"""The main job end to end: a real Prefect server, the serve process, the sample pipeline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tradeloom.data.store import MarketStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_up_once_serves_the_deployments_and_ingests_the_sample_data(tmp_path: Path):
    home = tmp_path / "home"
    env = {**os.environ, "TRADELOOM_HOME": str(home),
           "TRADELOOM_PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}
    env.pop("PREFECT_API_URL", None)
    tradeloom = str(Path(sys.executable).with_name("tradeloom"))

    done = subprocess.run([tradeloom, "up", "--once"], env=env, capture_output=True, text=True, timeout=900)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "sample-pipeline/bundled: Completed" in done.stderr
    market = MarketStore(home / "market.duckdb")
    assert len(market.ticks("EURUSD")) == 3733 + 7763 + 2354
    assert len(market.bars("EURUSD", "1m")) == 1440
    assert len(market.bars("EURUSD", "1h")) == 672 - 192  # weekend flats dropped
    assert len(market.bars("EURUSD", "1d")) == 365 - 52
    assert len(market.bars("AAPL", "1d")) == 49
    assert len(market.bars("IBM", "1d")) == 2
    # Everything it started has stopped: the port is free again.
    port = int(env["TRADELOOM_PREFECT_API_URL"].split(":")[2].split("/")[0])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_up_keeps_serving_until_ctrl_c_then_stops_everything_it_started(tmp_path: Path):
    import signal
    import time

    port = free_port()
    env = {**os.environ, "TRADELOOM_HOME": str(tmp_path / "home"), "TRADELOOM_PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    env.pop("PREFECT_API_URL", None)
    tradeloom = str(Path(sys.executable).with_name("tradeloom"))
    log = tmp_path / "up.log"
    with log.open("w") as out:
        job = subprocess.Popen([tradeloom, "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 900
        while "Ctrl-C stops everything" not in log.read_text():
            assert job.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the main job never reached serving"
            time.sleep(1)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) == 0  # the server is up while serving

        job.send_signal(signal.SIGINT)
        assert job.wait(timeout=120) == 0

    text = log.read_text()
    assert "sample-pipeline/bundled: Completed" in text
    assert "stopped the serve process" in text and "stopped the Prefect server" in text
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
