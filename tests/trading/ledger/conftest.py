"""A ledger on a real SQLite file in the test's temporary directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.ledger import SqlLedger


@pytest.fixture(scope="session")
def migrated_ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty ledger file at the newest schema, made once (closing it checkpoints the WAL into the file)."""
    path = tmp_path_factory.mktemp("template") / "ledger.sqlite"
    SqlLedger(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def ledger_url(tmp_path: Path, migrated_ledger_file: Path) -> str:
    """The SQLite URL of this test's own copy of an empty, migrated ledger file."""
    path = tmp_path / "ledger.sqlite"
    shutil.copyfile(migrated_ledger_file, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> BacktestClock:
    """The clock the ledger stamps updates with."""
    return BacktestClock(1_000)


@pytest.fixture
def ledger(ledger_url: str, clock: BacktestClock) -> Iterator[SqlLedger]:
    """A ledger on this test's file, closed after the test."""
    with SqlLedger(ledger_url, venue="sim", clock=clock) as opened:
        yield opened
