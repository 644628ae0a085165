"""FileLoader's concurrency: the caller's max_in_flight, capped by what the fetcher says can help."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Mapping

from tradeloom.data.sources.dukascopy.loading import FileJob, FileLoader
from tradeloom.data.sources.transport import DirectoryFetcher


class CountingFetcher:
    """Serves b"x" for any path after a short pause, recording how many gets overlapped at most."""

    def __init__(self, max_in_flight: int | None = None) -> None:
        if max_in_flight is not None:
            self.max_in_flight = max_in_flight
        self.active = self.peak = 0
        self._guard = threading.Lock()

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        with self._guard:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.02)
        with self._guard:
            self.active -= 1
        return b"x"


JOBS = [FileJob(f"file-{n}", expects_data=True) for n in range(24)]


def load(fetcher: CountingFetcher, max_in_flight: int) -> list[bytes]:
    loader = FileLoader(fetcher, is_empty=lambda body: not body, max_in_flight=max_in_flight)
    return [file.body for file in loader.load(JOBS, lambda body, path: body)]


def test_an_http_like_fetcher_gets_as_many_files_at_once_as_the_caller_allows() -> None:
    fetcher = CountingFetcher()
    assert load(fetcher, max_in_flight=8) == [b"x"] * 24
    assert fetcher.peak == 8


def test_a_fetcher_that_says_fewer_can_help_caps_the_loader() -> None:
    fetcher = CountingFetcher(max_in_flight=2)
    assert load(fetcher, max_in_flight=8) == [b"x"] * 24
    assert fetcher.peak == 2
    assert FileLoader(fetcher, is_empty=lambda body: not body, max_in_flight=1).max_in_flight == 1


def test_a_mirror_directory_reads_with_as_many_threads_as_there_are_cores(tmp_path: Path) -> None:
    mirror = DirectoryFetcher(tmp_path)
    assert mirror.max_in_flight == (os.cpu_count() or 1)
    assert FileLoader(mirror, is_empty=lambda body: not body, max_in_flight=10).max_in_flight == min(10, os.cpu_count() or 1)
