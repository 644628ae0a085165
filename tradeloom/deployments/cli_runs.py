"""Running a flow from the ``tradeloom`` command: on the local server when it is up, else one temporary API."""

from __future__ import annotations

from typing import Callable

import typer

from tradeloom.deployments.cli_output import console, print_json
from tradeloom.deployments.cli_progress import FlowRunProgress, progress_bar, run_with_progress
from tradeloom.deployments.prefect_server import flow_run_url, is_up, using_api
from tradeloom.settings.platform import PlatformSettings


def run_flow(flow_fn: Callable, as_json: bool, show: Callable[[dict], None], **parameters: object) -> None:
    """Run ``flow_fn`` with ``parameters`` under a progress bar, say where to see it, then print its result."""
    api_url = PlatformSettings().prefect_api_url
    server = api_url if is_up(api_url) else None
    if server is None:
        console.print("local Prefect server not running: this run uses a temporary one (about 10 s to start)")
    source = FlowRunProgress()
    watched = flow_fn.with_options(on_running=[*flow_fn.on_running_hooks, source.started])
    with using_api(server), progress_bar(console) as progress:
        task = progress.add_task(f"running {flow_fn.name}", total=None)
        if server is None:
            _start_temporary_api()  # here, once, rather than racing the progress poller to it
        state = run_with_progress(lambda: watched(**parameters, return_state=True), source, progress, task)
    if server:
        console.print(f"see the run at {flow_run_url(server, state.state_details.flow_run_id)}")
    result = state.result(raise_on_failure=False)
    if not state.is_completed():
        if as_json:
            print_json(result if isinstance(result, dict) else {"ok": False, "error": f"{type(result).__name__}: {result}"})
        console.print(f"[red]{flow_fn.name} ended {state.name}[/red]: {result}")
        raise typer.Exit(1)
    if as_json:
        print_json(result)
    else:
        show(result)


def _start_temporary_api() -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.api_healthcheck()
