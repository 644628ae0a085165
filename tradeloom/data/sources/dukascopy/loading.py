"""Fetching the files of a range: concurrently, in time order, cached, re-asking on a suspicious empty body.

An empty body for a period whose market was open is asked for again ``empty_retries`` times.
If it stays empty and no file of the fetch held data, the fetch raises
``EmptyWhereDataExpectedError`` (a ``TransientError``, so the task retries it later with
backoff) instead of passing the hole on as "no data". A 404 (or a mirror without the
file) is a definitive "no such file" and is accepted as no data without re-asking.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Generic, Literal, Sequence, TypeVar
from urllib.parse import urlencode

from tradeloom.data.sources.transport import Fetcher
from tradeloom.errors import NotFoundError, TransientError

T = TypeVar("T")

# Seconds to wait before re-asking for an empty body, times the attempt number.
EMPTY_RETRY_PAUSE = 0.5


class EmptyWhereDataExpectedError(TransientError):
    """Every file of a fetch whose market was open answered an empty body, even when asked again."""


@dataclass(frozen=True)
class FileJob:
    """One vendor file to load: its path under the base URL, its query, whether its market was open,
    and whether its period is over (only then is the body final and cached)."""

    path: str
    expects_data: bool
    query: tuple[tuple[str, str], ...] = ()
    complete: bool = True

    @property
    def name(self) -> str:
        """The path with its query, as messages and raw payloads name the file."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path


# What the vendor answered for a file: a body with data, an empty body (or empty JSON period), or 404.
Answer = Literal["data", "empty", "missing"]


@dataclass(frozen=True)
class LoadedFile(Generic[T]):
    """A file's body as received (``b""`` for no data), what ``decode`` made of it, and what kind of answer it was."""

    path: str
    body: bytes
    decoded: T
    answer: Answer = "data"


class FileLoader:
    """Loads many files through a ``Fetcher`` with at most ``max_in_flight`` requests at once (fewer if the
    fetcher says more cannot help: a mirror directory reads with as many threads as there are cores).

    A 404 or an empty body is "no data". An empty body for a period whose market was open is
    asked for again up to ``empty_retries`` times, pausing with ``sleep``; the caller decides
    with ``require_expected_data`` whether what stays empty is acceptable. Bodies of completed
    periods that decode are cached under ``cache_dir`` by path (historical files never change);
    a running period's body is incomplete and never cached.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        is_empty: Callable[[bytes], bool],
        max_in_flight: int = 10,
        empty_retries: int = 2,
        sleep: Callable[[float], None] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        if empty_retries < 0:
            raise ValueError(f"empty_retries must not be negative, got {empty_retries}")
        self.fetcher = fetcher
        self.is_empty = is_empty
        cap = getattr(fetcher, "max_in_flight", None)  # the fetcher's own limit (a mirror: its cores)
        self.max_in_flight = min(max_in_flight, cap) if isinstance(cap, int) and cap >= 1 else max_in_flight
        self.empty_retries = empty_retries
        self.sleep = sleep
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def load(self, jobs: Sequence[FileJob], decode: Callable[[bytes, str], T]) -> list[LoadedFile[T]]:
        """Each job's body and ``decode(body, path)``, in the order of ``jobs``; fetch errors propagate."""
        if not jobs:
            return []
        if len(jobs) == 1 or self.max_in_flight == 1:
            return [self._load_one(job, decode) for job in jobs]
        with ThreadPoolExecutor(max_workers=min(self.max_in_flight, len(jobs))) as pool:
            futures: list[Future[LoadedFile[T]]] = [pool.submit(self._load_one, job, decode) for job in jobs]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    @property
    def asks(self) -> int:
        """How many times an empty file whose market was open is asked for in all."""
        return 1 + self.empty_retries

    def _load_one(self, job: FileJob, decode: Callable[[bytes, str], T]) -> LoadedFile[T]:
        cached = self._cached(job.path) if job.complete else None
        if cached is not None:
            return LoadedFile(job.name, cached, decode(cached, job.name))
        body, answer = self._fetch(job)
        decoded = decode(body, job.name)
        if answer == "data" and job.complete:
            self._store(job.path, body)
        return LoadedFile(job.name, body, decoded, answer)

    def _fetch(self, job: FileJob) -> tuple[bytes, Answer]:
        attempt = 0
        while True:
            try:
                body = self.fetcher.get(job.path, dict(job.query) or None)
            except NotFoundError:
                return b"", "missing"
            if not self.is_empty(body):
                return body, "data"
            if not job.expects_data or attempt >= self.empty_retries:
                return body, "empty"
            attempt += 1
            if self.sleep is not None:
                self.sleep(EMPTY_RETRY_PAUSE * attempt)

    def _cache_file(self, path: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{path.strip('/')}.body"

    def _cached(self, path: str) -> bytes | None:
        file = self._cache_file(path)
        return file.read_bytes() if file is not None and file.is_file() else None

    def _store(self, path: str, body: bytes) -> None:
        file = self._cache_file(path)
        if file is None:
            return
        file.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temporary, file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def require_expected_data(jobs: Sequence[FileJob], loaded: Sequence[LoadedFile], symbol: str,
                          start: datetime, end: datetime, asks: int) -> None:
    """Raise ``EmptyWhereDataExpectedError`` when no file of a fetch held data although some were
    expected to (market open) and answered empty: a vendor hiccup, not a closed market.

    When other files of the fetch hold data, the empty ones are accepted (a holiday hour in a
    week): the validation reports the gap.
    """
    if any(file.answer == "data" for file in loaded):
        return
    empty = [file.path for job, file in zip(jobs, loaded) if job.expects_data and file.answer == "empty"]
    if empty:
        raise EmptyWhereDataExpectedError(
            f"{symbol} {start.isoformat()} to {end.isoformat()}: Dukascopy answered an empty body for every file "
            f"whose market was open, {asks} times each: {', '.join(empty)}"
        )
