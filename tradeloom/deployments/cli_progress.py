"""The ``tradeloom`` command's progress bar: units done of a flow run, read from its progress artifact.

A flow that publishes no progress artifact keeps a spinner with the elapsed time.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Callable, Protocol, TypeVar
from uuid import UUID

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tradeloom.flows.progress import UnitCount

T = TypeVar("T")


class ProgressSource(Protocol):
    """Where the units done so far come from; None until there is something to show."""

    def read(self) -> UnitCount | None: ...


class FlowRunProgress:
    """The latest progress artifact of one flow run, read from the Prefect API.

    The flow run's id is only known once the run starts: ``started`` is a flow
    ``on_running`` hook that records it.
    """

    def __init__(self) -> None:
        self.flow_run_id: UUID | None = None

    def started(self, flow: object, flow_run: object, state: object) -> None:
        """Flow ``on_running`` hook: remember which run to follow."""
        self.flow_run_id = flow_run.id  # type: ignore[attr-defined]

    def read(self) -> UnitCount | None:
        """The run's latest published count, or None (not started yet, or it publishes none)."""
        if self.flow_run_id is None:
            return None
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType
        from prefect.client.schemas.sorting import ArtifactSort

        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[self.flow_run_id]),
                                               type=ArtifactFilterType(any_=["progress"])),
                sort=ArtifactSort.UPDATED_DESC,
                limit=1,
            )
        return UnitCount.parse(artifacts[0].description) if artifacts else None


def progress_bar(console: Console) -> Progress:
    """A bar with units done/total, elapsed time and an ETA (a pulsing bar while the total is unknown)."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True)


def show(progress: Progress, task: TaskID, count: UnitCount | None) -> None:
    """Move the bar to ``count``; nothing to show leaves the spinner."""
    if count is not None:
        progress.update(task, completed=count.completed, total=count.total)


def run_with_progress(work: Callable[[], T], source: ProgressSource, progress: Progress, task: TaskID,
                      interval: float = 0.5) -> T:
    """Run ``work`` here while a thread polls ``source`` into the bar; poll once more when it ends."""
    done = threading.Event()
    context = contextvars.copy_context()  # the poller talks to the same Prefect API as the flow

    def poll() -> None:
        while not done.wait(interval):
            context.run(lambda: show(progress, task, _read_quietly(source)))

    poller = threading.Thread(target=poll, name="tradeloom-progress", daemon=True)
    poller.start()
    try:
        return work()
    finally:
        done.set()
        poller.join()
        show(progress, task, _read_quietly(source))


def _read_quietly(source: ProgressSource) -> UnitCount | None:
    # The bar is a courtesy: no failure to read it (an API hiccup, a temporary API shutting
    # down, an unexpected payload) may break or hide the result of the run being watched.
    try:
        return source.read()
    except Exception:  # noqa: BLE001
        return None
