"""Fetching the files of a range: concurrently, in time order, cached, re-asking on a suspicious empty body."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, Sequence, TypeVar

from tradeloom.data.sources.transport import Fetcher
from tradeloom.errors import NotFoundError

T = TypeVar("T")

# Seconds to wait before re-asking for an empty body, times the attempt number.
EMPTY_RETRY_PAUSE = 0.5


@dataclass(frozen=True)
class FileJob:
    """One vendor file to load: its path under the base URL, and whether its market was open."""

    path: str
    expects_data: bool


@dataclass(frozen=True)
class LoadedFile(Generic[T]):
    """A file's body as received (``b""`` for no data) and what ``decode`` made of it."""

    path: str
    body: bytes
    decoded: T


class FileLoader:
    """Loads many files through a ``Fetcher`` with at most ``max_in_flight`` requests at once.

    A 404 or an empty body is "no data". An empty body for a period whose market was open is
    asked for again up to ``empty_retries`` times, pausing with ``sleep``, then accepted.
    Bodies that decode are cached under ``cache_dir`` by path (historical files never change).
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
        self.max_in_flight = max_in_flight
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

    def _load_one(self, job: FileJob, decode: Callable[[bytes, str], T]) -> LoadedFile[T]:
        cached = self._cached(job.path)
        if cached is not None:
            return LoadedFile(job.path, cached, decode(cached, job.path))
        body = self._fetch(job)
        decoded = decode(body, job.path)
        if not self.is_empty(body):
            self._store(job.path, body)
        return LoadedFile(job.path, body, decoded)

    def _fetch(self, job: FileJob) -> bytes:
        attempt = 0
        while True:
            try:
                body = self.fetcher.get(job.path)
            except NotFoundError:
                return b""
            if not self.is_empty(body) or not job.expects_data or attempt >= self.empty_retries:
                return body
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
