"""The ``tradeloom`` command's progress bar, driven by a source of unit counts while work runs."""

from __future__ import annotations

import io
import threading

from rich.console import Console

from tradeloom.deployments.cli_progress import progress_bar, run_with_progress
from tradeloom.flows.progress import UnitCount


class ScriptedProgress:
    """A ProgressSource playing counts in order (the last repeats); ``read_enough`` is set once all were read.

    With ``hold_at`` = n, the n-th read waits (``holding`` set) until ``release`` is set: the
    poller is then parked with the (n-1)-th count shown, so a test can look at the bar mid-run.
    """

    def __init__(self, *counts: UnitCount | None, hold_at: int | None = None) -> None:
        self.counts = list(counts)
        self.reads = 0
        self.read_enough = threading.Event()
        self.hold_at = hold_at
        self.holding, self.release = threading.Event(), threading.Event()

    def read(self) -> UnitCount | None:
        self.reads += 1
        if self.reads == self.hold_at:
            self.holding.set()
            self.release.wait(10)
        if self.reads >= len(self.counts):
            self.read_enough.set()
        return self.counts[min(self.reads, len(self.counts)) - 1]


def quiet_console() -> Console:
    return Console(file=io.StringIO(), width=120)


def test_the_bar_counts_the_units_the_source_reports_and_ends_on_the_last_count():
    source = ScriptedProgress(None, UnitCount(0, 4), UnitCount(1, 4), UnitCount(3, 4), UnitCount(4, 4), hold_at=4)
    mid_run: list[tuple[float, float | None]] = []

    with progress_bar(quiet_console()) as progress:
        task = progress.add_task("running ingest-dukascopy", total=None)

        def work() -> str:
            assert source.holding.wait(10)  # the poller showed the third count and is reading the fourth
            mid_run.append((progress.tasks[0].completed, progress.tasks[0].total))
            source.release.set()
            assert source.read_enough.wait(10)
            return "done"

        assert run_with_progress(work, source, progress, task, interval=0.01) == "done"
        bar = progress.tasks[0]
        rendered = [str(column.render(bar)) for column in progress.columns if hasattr(column, "render")]

    assert mid_run == [(1, 4)]  # the bar moved while the work ran, not only at the end
    assert (bar.completed, bar.total) == (4, 4)
    assert "4/4" in rendered


def test_a_run_that_publishes_no_progress_keeps_the_spinner():
    source = ScriptedProgress(None)

    with progress_bar(quiet_console()) as progress:
        task = progress.add_task("running backtest", total=None)
        run_with_progress(lambda: source.read_enough.wait(5), source, progress, task, interval=0.01)
        bar = progress.tasks[0]

    assert (bar.completed, bar.total) == (0, None)
    assert source.reads >= 2  # polled while running, and once more at the end


def test_unit_counts_round_trip_through_the_artifact_description():
    assert UnitCount(3, 12).describe() == "3/12 units"
    assert UnitCount.parse("3/12 units") == UnitCount(3, 12, "units")
    assert UnitCount.parse("3/12 hour files") == UnitCount(3, 12, "hour files")
    assert UnitCount(3, 12).percent == 25.0
    assert UnitCount(0, 0).percent == 100.0
    assert UnitCount.parse("tradeloom ingest-dukascopy") is None
    assert UnitCount.parse("13/12 units") is None
    assert UnitCount.parse(None) is None
