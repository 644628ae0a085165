"""Kill switch and breaker memory kept in the real SQLite ledger, surviving a reopen."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.ledger.sql_ledger import SqlLedger
from tradeloom.trading.risk.breakers import BreakerConfig, CircuitBreakers, TradingState
from tradeloom.trading.risk.stored_state import StateStore, StoredKillSwitch, load_breakers, save_breakers

HOUR = 3600 * 10**9
DAY1 = 20_000 * 24 * HOUR


def _ledger(tmp_path: Path) -> SqlLedger:
    return SqlLedger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def test_the_kill_switch_in_the_ledger_is_seen_by_another_connection(tmp_path: Path) -> None:
    cli, loop = _ledger(tmp_path), _ledger(tmp_path)
    try:
        assert isinstance(cli, StateStore)
        loop_switch = StoredKillSwitch(loop)
        assert not loop_switch.status().engaged
        breakers = CircuitBreakers(BreakerConfig(), BacktestClock(DAY1), loop_switch)
        breakers.update(D(1000))
        StoredKillSwitch(cli).engage("exchange outage", "alice", DAY1 + 5)
        status = loop_switch.status()
        assert (status.engaged, status.reason) == (True, "exchange outage (by alice)")
        assert breakers.update(D(1000)).reason == "kill switch: exchange outage (by alice)"  # type: ignore[union-attr]
        StoredKillSwitch(cli).release("bob", DAY1 + 9)
        assert loop_switch.status().reason == "released by bob" and breakers.update(D(1000)).current is TradingState.ACTIVE  # type: ignore[union-attr]
        cli.set_state("kill_switch", "maybe", "typo", datetime(2024, 1, 1, tzinfo=timezone.utc))
        assert loop_switch.status().engaged  # an unknown value fails safe
        with pytest.raises(ValueError, match="needs a reason"):
            StoredKillSwitch(cli).engage("", "x", 0)
    finally:
        cli.close()
        loop.close()


def test_a_tripped_daily_limit_survives_a_restart(tmp_path: Path) -> None:
    clock = BacktestClock(DAY1 + HOUR)
    ledger = _ledger(tmp_path)
    breakers = CircuitBreakers(BreakerConfig(), clock)
    breakers.update(D(100_000))
    clock.observe(DAY1 + 2 * HOUR)
    breakers.update(D(96_000))
    breakers.record_stop_out()
    save_breakers(breakers, ledger)
    ledger.close()

    reopened = _ledger(tmp_path)
    try:
        restarted = CircuitBreakers(BreakerConfig(), clock)
        assert load_breakers(restarted, reopened)
        assert restarted.memory() == breakers.memory()
        clock.observe(DAY1 + 3 * HOUR)
        assert restarted.update(D(99_000)) is None and restarted.state is TradingState.HALTED
        clock.observe(DAY1 + 25 * HOUR)
        assert restarted.update(D(99_000)).current is TradingState.ACTIVE  # type: ignore[union-attr]
    finally:
        reopened.close()
    (tmp_path / "empty").mkdir()
    empty = _ledger(tmp_path / "empty")
    try:
        assert not load_breakers(CircuitBreakers(BreakerConfig(), clock), empty)
    finally:
        empty.close()
