"""Kill switch and breaker memory kept in the real SQLite ledger, surviving a reopen."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeloom.errors import TransientError
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.ledger.sql_ledger import SqlLedger
from tradeloom.trading.risk.breakers import BreakerConfig, CircuitBreakers, TradingState
from tradeloom.trading.risk.kill_switch import KillSwitchStatus
from tradeloom.trading.risk.protection import PositionSide, ProtectionState
from tradeloom.trading.risk.protection_rules import ProtectionConfig
from tradeloom.trading.risk.stored_state import (
    StateStore,
    StoredKillSwitch,
    load_breakers,
    load_protection,
    save_breakers,
    save_protection,
)

HOUR = 3600 * 10**9
DAY1 = 20_000 * 24 * HOUR


def _ledger(tmp_path: Path) -> SqlLedger:
    return SqlLedger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def test_the_kill_switch_in_the_ledger_is_seen_by_another_connection(tmp_path: Path) -> None:
    cli, loop = _ledger(tmp_path), _ledger(tmp_path)
    try:
        assert isinstance(cli, StateStore)
        loop_switch = StoredKillSwitch(loop)
        assert loop_switch.status() == KillSwitchStatus(False)
        breakers = CircuitBreakers(BreakerConfig(), BacktestClock(DAY1), loop_switch)
        breakers.update(D(1000))
        pulled = StoredKillSwitch(cli).engage(" exchange outage ", "alice@ops", DAY1 + 5_000)
        assert pulled == KillSwitchStatus(True, "exchange outage", "alice@ops", DAY1 + 5_000)
        assert loop_switch.status() == pulled  # who, why and when, as the other connection stored them
        assert breakers.update(D(1000)).reason == "kill switch: exchange outage (by alice@ops)"  # type: ignore[union-attr]
        entry = cli.get_state("kill_switch")
        assert (entry.value, entry.reason) == ('{"by": "alice@ops", "engaged": true}', "exchange outage")
        released = StoredKillSwitch(cli).release("bob", DAY1 + 9_000, "reviewed")
        assert loop_switch.status() == released == KillSwitchStatus(False, "reviewed", "bob", DAY1 + 9_000)
        assert breakers.update(D(1000)).current is TradingState.ACTIVE  # type: ignore[union-attr]
        assert StoredKillSwitch(cli).release("bob", DAY1 + 9_999).reason == "released"  # sub-microsecond time dropped
        assert loop_switch.status().since_ns == DAY1 + 9_000
        for unreadable in ("maybe", '{"engaged": "no", "by": "x"}', '{"by": "x"}'):
            cli.set_state("kill_switch", unreadable, "typo", datetime(2024, 1, 1, tzinfo=timezone.utc))
            status = loop_switch.status()
            assert status.engaged and "unreadable value" in status.reason  # fails safe
        with pytest.raises(ValueError, match="needs a reason"):
            StoredKillSwitch(cli).engage("", "x", 0)
    finally:
        cli.close()
        loop.close()


class FlakyStore:
    """A trading-state store whose connection drops while ``down`` (as SqlLedger reports it: a TransientError)."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger, self.down = ledger, False

    def set_state(self, key: str, value: str, reason: str, at: datetime) -> object:
        return self.ledger.set_state(key, value, reason, at)

    def get_state(self, key: str) -> object:
        if self.down:
            raise TransientError("the ledger at postgresql://db/ledger is unavailable, try again: connection lost")
        return self.ledger.get_state(key)


def test_an_unreachable_ledger_counts_as_a_pulled_switch(tmp_path: Path) -> None:
    with _ledger(tmp_path) as ledger:
        store = FlakyStore(ledger)
        switch = StoredKillSwitch(store)
        breakers = CircuitBreakers(BreakerConfig(), BacktestClock(DAY1), switch)
        switch.release("ops", DAY1)
        assert breakers.update(D(1000)) is None
        store.down = True
        status = switch.status()
        assert status.engaged and status.reason == (
            "the ledger holding the kill switch cannot be read; treated as engaged (TransientError: the ledger at "
            "postgresql://db/ledger is unavailable, try again: connection lost)")
        assert breakers.update(D(1000)).current is TradingState.HALTED  # type: ignore[union-attr]
        store.down = False
        assert breakers.update(D(1000)).current is TradingState.ACTIVE  # type: ignore[union-attr]  # readable: resumes


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


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=st.lists(st.integers(-300, 600), min_size=1, max_size=30), side=st.sampled_from(list(PositionSide)))
def test_protection_continues_exactly_after_a_restart(tmp_path: Path, prices: list[int], side: PositionSide) -> None:
    config = ProtectionConfig()
    state = ProtectionState(config, side, D(100), D(100) - side.sign * D(5), D(8), D("0.01"), D(1), D("0.2"))
    for ticks in prices[: len(prices) // 2]:
        state.on_price(D(100) + side.sign * D(ticks) / 100)
    ledger = SqlLedger(f"sqlite:///{tmp_path / 'protection.sqlite'}")
    try:
        save_protection({"P1": state}, ledger, DAY1)
        restored = load_protection(config, ledger)["P1"]
    finally:
        ledger.close()
    assert restored.memory() == state.memory()
    for ticks in prices[len(prices) // 2:]:
        price = D(100) + side.sign * D(ticks) / 100
        assert restored.on_price(price) == state.on_price(price)


def test_unreadable_protection_is_named(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    try:
        assert load_protection(ProtectionConfig(), ledger) == {}
        ledger.set_state("protection", '{"P1": {"side": "LONG"}}', "", datetime(2024, 1, 1, tzinfo=timezone.utc))
        with pytest.raises(ValueError, match="stored protection state is unreadable"):
            load_protection(ProtectionConfig(), ledger)
    finally:
        ledger.close()


def test_a_ledger_without_the_state_table_counts_as_a_pulled_switch(tmp_path: Path) -> None:
    import sqlite3

    with _ledger(tmp_path) as ledger:
        switch = StoredKillSwitch(ledger)
        switch.release("ops", DAY1)
        with sqlite3.connect(tmp_path / "ledger.sqlite") as raw:  # the table vanishes under a running loop
            tables = [row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            raw.execute(f"DROP TABLE {next(t for t in tables if 'state' in t)}")
        status = switch.status()
        assert status.engaged and status.reason.startswith(
            "the ledger holding the kill switch cannot be read; treated as engaged (")
