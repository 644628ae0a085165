"""Finding, starting and talking to the local Prefect server."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

import httpx


def is_up(api_url: str, timeout: float = 0.5) -> bool:
    """True when a Prefect server answers its health check at ``api_url``."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_up(api_url: str, timeout: float) -> None:
    """Block until the server at ``api_url`` is healthy; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_up(api_url):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server at {api_url} did not become healthy within {timeout:.0f} s")


def ui_url(api_url: str) -> str:
    """The UI's address for an API address (the UI is served at the API's host and port)."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


def flow_run_url(api_url: str, flow_run_id: object) -> str:
    """Where a person sees one flow run in the UI."""
    return f"{ui_url(api_url)}/runs/flow-run/{flow_run_id}"


EPHEMERAL_STARTUP_SECONDS = 180  # Prefect's 20 s default is too short for a first start on a busy machine


@contextmanager
def using_api(api_url: str | None) -> Iterator[None]:
    """Point Prefect at ``api_url`` inside the block; None runs on one temporary (ephemeral) API."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    if api_url is None:
        with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: EPHEMERAL_STARTUP_SECONDS}):
            yield
        return
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield
