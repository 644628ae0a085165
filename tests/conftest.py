"""Shared fixtures: paths to the recorded vendor payloads, a loopback vendor server, temp homes."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.vendor_http import VendorServer

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The recorded vendor payloads in ../shared/fixtures (see SOURCES.md there)."""
    if not FIXTURES.is_dir():
        pytest.fail(f"recorded fixtures not found at {FIXTURES}; ../shared must sit beside the repo")
    return FIXTURES


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    """A real HTTP server on 127.0.0.1 playing canned vendor responses."""
    server = VendorServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty TRADELOOM_HOME for one test."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("TRADELOOM_HOME", str(path))
    return path
