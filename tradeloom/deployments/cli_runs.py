"""Running a flow from the ``tradeloom`` command: on the local server when it is up, else one temporary API."""

from __future__ import annotations

from typing import Callable

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tradeloom.deployments.cli_output import console, print_json
from tradeloom.deployments.prefect_server import flow_run_url, is_up, using_api
from tradeloom.settings.platform import PlatformSettings


def run_flow(flow_fn: Callable, as_json: bool, show: Callable[[dict], None], **parameters: object) -> None:
    """Run ``flow_fn`` with ``parameters``, say where to see it, then print its result (JSON or ``show``)."""
    api_url = PlatformSettings().prefect_api_url
    server = api_url if is_up(api_url) else None
    if server is None:
        console.print("local Prefect server not running: this run uses a temporary one (about 10 s to start)")
    with using_api(server), Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                     console=console, transient=True) as progress:
        progress.add_task(f"running {flow_fn.name}", total=None)
        state = flow_fn(**parameters, return_state=True)
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
