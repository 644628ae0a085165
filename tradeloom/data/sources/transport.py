"""How sources reach a vendor: over HTTP, or from a local mirror directory laid out like its URLs.

Every HTTP outcome is translated here into the error hierarchy of ``tradeloom.errors``,
so sources only deal with bytes and typed errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Mapping, Protocol, Self
from urllib.parse import quote, urlencode, urlsplit

import logging

import httpx

from tradeloom.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TradeloomError,
    TransientError,
)

# httpx logs each request's full URL at INFO, and Alpha Vantage's key travels in the query.
logging.getLogger("httpx").setLevel(logging.WARNING)

# Query parameters that carry secrets: never part of a mirror file name, a log or an error.
SECRET_PARAMS = frozenset({"apikey", "api_key", "crumb", "token"})


class Fetcher(Protocol):
    """Something that returns the body at ``path`` (relative to a base) with query ``params``.

    A fetcher may also carry ``max_in_flight`` (an int): how many gets at once can still help.
    A local mirror has no latency to hide, so more reads at once than cores only contend for them.
    """

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes: ...


class ClosingFetcher:
    """A fetcher that holds resources: ``close()`` it, or use it as a context manager."""

    def close(self) -> None:
        """Release what the fetcher holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def redact(params: Mapping[str, str] | None) -> dict[str, str]:
    """The query parameters with secret values replaced, fit for messages."""
    return {k: ("***" if k.lower() in SECRET_PARAMS else str(v)) for k, v in (params or {}).items()}


def _attach(error: TradeloomError, status: int | None, body: bytes) -> TradeloomError:
    error.status = status  # type: ignore[attr-defined]
    error.body = body  # type: ignore[attr-defined]
    return error


def error_for_status(status: int, body: bytes, where: str, retry_after: str | None = None) -> TradeloomError:
    """The typed error for a non-success HTTP ``status`` answered at ``where``."""
    excerpt = body[:200].decode("utf-8", "replace").strip()
    message = f"HTTP {status} from {where}" + (f": {excerpt}" if excerpt else "")
    if status == 429:
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return _attach(RateLimitedError(message, retry_after=seconds), status, body)
    if status == 404:
        return _attach(NotFoundError(message), status, body)
    if status in (401, 403):
        return _attach(AuthError(message), status, body)
    if status == 408 or status >= 500:
        return _attach(TransientError(message), status, body)
    return _attach(RejectedError(message), status, body)


class HttpFetcher(ClosingFetcher):
    """GETs ``base_url + path`` with httpx; one connection pool per fetcher."""

    def __init__(self, base_url: str, timeout: float = 30.0, headers: Mapping[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout, headers=dict(headers or {}), follow_redirects=True)

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        """The body at ``path`` under the base URL, or at ``path`` itself when it is an absolute http(s) URL.

        One client serves both, so cookies one host sets (Yahoo's A3) travel with later calls.
        """
        absolute = urlsplit(path).scheme in ("http", "https")
        url = path if absolute else f"{self.base_url}/{path.lstrip('/')}"
        where = f"{url}?{urlencode(redact(params))}" if params else url
        try:
            response = self._client.get(url, params=dict(params or {}))
            body = response.content
        except httpx.TimeoutException as exc:
            raise TransientError(f"timed out fetching {where}: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            # Connection refused or reset, or cut mid-body (RemoteProtocolError, ReadError).
            raise TransientError(f"connection failed fetching {where}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise error_for_status(response.status_code, body, where, response.headers.get("retry-after"))
        return body

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    @property
    def closed(self) -> bool:
        """True once the connection pool is closed (a closed fetcher refuses to fetch)."""
        return self._client.is_closed


class DirectoryFetcher(ClosingFetcher):
    """Serves a local mirror: ``root/path`` for any query, else ``root/path/<canonical query>``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.max_in_flight = usable_cpus()

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        base = self.root / path.lstrip("/")
        if base.is_file():
            return base.read_bytes()
        if params:
            candidate = base / mirror_query_name(params)
            if candidate.is_file():
                return candidate.read_bytes()
        raise _attach(NotFoundError(f"no mirror file for {path} {redact(params)} under {self.root}"), 404, b"")



def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, which container cpusets narrow), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def mirror_query_name(params: Mapping[str, str]) -> str:
    """The file name a mirror uses for a query: sorted ``k=v`` pairs, secrets left out."""
    kept = sorted((k, str(v)) for k, v in params.items() if k.lower() not in SECRET_PARAMS)
    return quote(urlencode(kept), safe="=&")


def fetcher_for(base: str, timeout: float = 30.0, headers: Mapping[str, str] | None = None) -> HttpFetcher | DirectoryFetcher:
    """A fetcher for ``base``: an http(s) URL, a ``file://`` URL or a directory path; close it when done."""
    scheme = urlsplit(base).scheme
    if scheme in ("http", "https"):
        return HttpFetcher(base, timeout=timeout, headers=headers)
    path = Path(urlsplit(base).path if scheme == "file" else base).expanduser()
    if not path.is_dir():
        raise ValueError(f"base URL {base!r} is neither an http(s) URL nor an existing directory")
    return DirectoryFetcher(path)
