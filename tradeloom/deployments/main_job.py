"""The main job on the embedded default: a local Prefect server, one serve process, the sample pipeline.

It keeps serving until stopped (Ctrl-C stops everything it started); ``once`` runs the
sample pipeline and exits with its outcome.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from tradeloom.deployments.prefect_server import flow_run_url, is_up, ui_url, using_api, wait_until_up
from tradeloom.settings.platform import PlatformSettings

SAMPLE_DEPLOYMENT = "sample-pipeline/bundled"


def _child_env(home: Path, api_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TRADELOOM_HOME": str(home),
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "INFO"),
    }


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    # A new session: Ctrl-C reaches only this process, which then stops its children in order.
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen, name: str, console: Console) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    console.print(f"stopped {name}")


def _wait_for_deployment(api_url: str, name: str, timeout: float) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    with using_api(api_url), get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            try:
                client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                time.sleep(1)
    raise TimeoutError(f"deployment {name} was not registered by the serve process within {timeout:.0f} s")


def _run_sample(api_url: str, console: Console) -> bool:
    from prefect.deployments import run_deployment

    with using_api(api_url):
        with console.status(f"running {SAMPLE_DEPLOYMENT} on the served deployments"):
            flow_run = run_deployment(SAMPLE_DEPLOYMENT, timeout=1800)
    state = flow_run.state
    console.print(f"{SAMPLE_DEPLOYMENT}: {state.name if state else 'unknown'} — {flow_run_url(api_url, flow_run.id)}")
    return bool(state and state.is_completed())


def run_main_job(platform: PlatformSettings, once: bool, console: Console) -> int:
    """Start the server and the served deployments, run the sample pipeline, then serve or exit."""
    home = platform.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    api_url = platform.prefect_api_url
    env = _child_env(home, api_url)
    logs = home / "logs"
    started: list[tuple[subprocess.Popen, str]] = []
    prefect_cli = str(Path(sys.executable).with_name("prefect"))
    try:
        if is_up(api_url):
            console.print(f"using the Prefect server already running at {ui_url(api_url)}")
        else:
            parts = urlsplit(api_url)
            server = _start([prefect_cli, "server", "start", "--host", parts.hostname or "127.0.0.1",
                             "--port", str(parts.port or 4200)], env, logs / "prefect-server.log")
            started.append((server, "the Prefect server"))
            with console.status(f"starting the Prefect server (log: {logs / 'prefect-server.log'})"):
                wait_until_up(api_url, timeout=180)
            console.print(f"Prefect UI: {ui_url(api_url)}")
        serving = _start([sys.executable, "-m", "tradeloom.deployments.serve"], env, logs / "serve.log")
        started.append((serving, "the serve process"))
        with console.status("registering deployments"):
            _wait_for_deployment(api_url, SAMPLE_DEPLOYMENT, timeout=180)
        ok = _run_sample(api_url, console)
        console.print(f"market store: {platform.market_store_path.resolve()}  (try: tradeloom data status)")
        if once:
            return 0 if ok else 1
        console.print("serving the deployments on their schedules; Ctrl-C stops everything this started")
        while all(process.poll() is None for process, _ in started):
            time.sleep(1)
        console.print("[red]a child process ended unexpectedly; see the logs in[/red] " + str(logs))
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process, name in reversed(started):
            _stop(process, name, console)
