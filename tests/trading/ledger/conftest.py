"""A ledger on a real SQLite file in the test's temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.ledger import SqlLedger


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    """A SQLite URL of a file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


@pytest.fixture
def clock() -> BacktestClock:
    """The clock the ledger stamps updates with."""
    return BacktestClock(1_000)


@pytest.fixture
def ledger(ledger_url: str, clock: BacktestClock) -> Iterator[SqlLedger]:
    """A freshly migrated ledger, closed after the test."""
    with SqlLedger(ledger_url, venue="sim", clock=clock) as opened:
        yield opened
