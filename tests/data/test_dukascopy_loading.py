"""FileLoader's concurrency: the caller's max_in_flight, capped by what the fetcher says can help."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Mapping

import pytest

from tradeloom.data.sources.dukascopy.loading import FileJob, FileLoader
from tradeloom.data.sources.transport import DirectoryFetcher


class GatheringFetcher:
    """Serves b"x" once ``together`` gets are in flight at the same time (a barrier), counting the most at once."""

    def __init__(self, together: int, max_in_flight: int | None = None, timeout: float = 5.0) -> None:
        if max_in_flight is not None:
            self.max_in_flight = max_in_flight
        self._barrier = threading.Barrier(together, timeout=timeout)
        self._guard = threading.Lock()
        self.active = self.peak = 0

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        with self._guard:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self._barrier.wait()  # raises BrokenBarrierError unless ``together`` gets overlap
        finally:
            with self._guard:
                self.active -= 1
        return b"x"


JOBS = [FileJob(f"file-{n}", expects_data=True) for n in range(24)]


def load(fetcher: GatheringFetcher, max_in_flight: int) -> list[bytes]:
    loader = FileLoader(fetcher, is_empty=lambda body: not body, max_in_flight=max_in_flight)
    return [file.body for file in loader.load(JOBS, lambda body, path: body)]


def test_an_http_like_fetcher_gets_as_many_files_at_once_as_the_caller_allows() -> None:
    fetcher = GatheringFetcher(together=8)
    assert load(fetcher, max_in_flight=8) == [b"x"] * 24
    assert fetcher.peak == 8


def test_a_fetcher_that_says_fewer_can_help_caps_the_loader() -> None:
    fetcher = GatheringFetcher(together=2, max_in_flight=2)
    assert load(fetcher, max_in_flight=8) == [b"x"] * 24
    assert fetcher.peak == 2
    # Without the cap the same loader would run 8 at once, and a barrier of 3 would be passed.
    with pytest.raises(threading.BrokenBarrierError):
        load(GatheringFetcher(together=3, max_in_flight=2, timeout=0.5), max_in_flight=8)


def test_a_mirror_directory_says_one_read_per_usable_cpu(tmp_path: Path) -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert DirectoryFetcher(tmp_path).max_in_flight == expected
