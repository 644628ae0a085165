"""Circuit breakers: daily loss, drawdown, stop-out cooldown and the kill switch, on an injected clock."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.risk.breakers import BreakerConfig, CircuitBreakers, StateChange, TradingState
from tradeloom.trading.ledger import SqlLedger
from tradeloom.trading.risk.kill_switch import KillSwitchStatus, NoKillSwitch
from tradeloom.trading.risk.stored_state import StoredKillSwitch

HOUR = 3600 * 10**9
DAY1 = 20_000 * 24 * HOUR  # 2024-10-04T00:00Z
ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


def test_losses_crossing_the_daily_limit_halt_entries_and_the_next_day_resumes() -> None:
    clock = BacktestClock(DAY1 + HOUR)
    breakers = CircuitBreakers(BreakerConfig(), clock)
    assert breakers.update(D(100_000)) is None and breakers.allows_entries
    for hours, equity in ((2, 99_000), (3, 98_000), (4, 97_001)):  # 2.999% down: still trading
        clock.observe(DAY1 + hours * HOUR)
        assert breakers.update(D(equity)) is None
    clock.observe(DAY1 + 5 * HOUR)
    change = breakers.update(D(96_900))  # 3.1% down
    assert change == StateChange(
        DAY1 + 5 * HOUR, ACTIVE, HALTED, "daily loss reached the limit 3% of the day's starting equity 100000"
    )
    assert not breakers.allows_entries
    clock.observe(DAY1 + 20 * HOUR)
    assert breakers.update(D(99_500)) is None and breakers.state is HALTED  # recovering the same day does not release
    clock.observe(DAY1 + 24 * HOUR + 1)
    resumed = breakers.update(D(99_500))
    assert resumed == StateChange(DAY1 + 24 * HOUR + 1, HALTED, ACTIVE, "all breakers clear")
    assert breakers.history == [change, resumed]


def test_drawdown_latches_until_a_person_resets_it() -> None:
    clock = BacktestClock(DAY1)
    breakers = CircuitBreakers(BreakerConfig(daily_loss_limit_pct=D(0), max_drawdown_pct=D(10)), clock)
    breakers.update(D(100_000))
    clock.observe(DAY1 + HOUR)
    breakers.update(D(120_000))
    clock.observe(DAY1 + 2 * HOUR)
    change = breakers.update(D(108_000))
    assert change is not None and change.current is HALTED
    assert change.reason == "drawdown 10.00% from the peak 120000 reached the limit 10%"
    clock.observe(DAY1 + 50 * HOUR)
    assert breakers.update(D(119_000)) is None and breakers.state is HALTED
    reset = breakers.reset_drawdown(D(119_000), "reviewed by risk desk")
    assert reset == StateChange(DAY1 + 50 * HOUR, HALTED, ACTIVE, "drawdown reset: reviewed by risk desk")


def test_reducing_by_setting_and_the_stop_out_cooldown() -> None:
    clock = BacktestClock(DAY1)
    config = BreakerConfig(daily_loss_limit_pct=D(2), daily_loss_state=REDUCING, stop_out_limit=3,
                           stop_out_window_s=3600, cooldown_s=1800)
    breakers = CircuitBreakers(config, clock)
    breakers.update(D(10_000))
    for minute in (0, 50):
        clock.observe(DAY1 + minute * 60 * 10**9)
        breakers.record_stop_out()
    clock.observe(DAY1 + 70 * 60 * 10**9)  # the first stop-out left the window
    breakers.record_stop_out()
    assert breakers.update(D(10_000)) is None
    clock.observe(DAY1 + 80 * 60 * 10**9)
    breakers.record_stop_out()  # 3 within the hour: 50, 70, 80 minutes
    change = breakers.update(D(10_000))
    assert change is not None and change.current is REDUCING and change.reason.startswith("cooldown after 3 stop-outs")
    clock.observe(DAY1 + 110 * 60 * 10**9)
    assert breakers.update(D(10_000)).current is ACTIVE  # 30 minutes later
    clock.observe(DAY1 + 111 * 60 * 10**9)
    assert breakers.update(D(9_800)).current is REDUCING  # 2% daily loss, reducing by setting


def _ledger(tmp_path: Path) -> SqlLedger:
    return SqlLedger(f"sqlite:///{tmp_path / 'state' / 'ledger.sqlite'}")


def test_the_kill_switch_is_obeyed_at_the_next_evaluation(tmp_path: Path) -> None:
    with _ledger(tmp_path) as ledger, _ledger(tmp_path) as elsewhere:
        switch = StoredKillSwitch(ledger)
        assert switch.status() == KillSwitchStatus(False)
        clock = BacktestClock(DAY1)
        breakers = CircuitBreakers(BreakerConfig(), clock, switch)
        breakers.update(D(1000))
        StoredKillSwitch(elsewhere).engage("exchange incident", "alice", DAY1 + 5000)
        assert switch.status() == KillSwitchStatus(True, "exchange incident", "alice", DAY1 + 5000)
        change = breakers.update(D(1000))
        assert change == StateChange(DAY1, ACTIVE, HALTED, "kill switch: exchange incident (by alice)")
        StoredKillSwitch(elsewhere).release("alice", DAY1 + 10_000)
        assert breakers.update(D(1000)).current is ACTIVE  # type: ignore[union-attr]
        elsewhere.set_state("kill_switch", "{not json", "edited by hand", datetime(2024, 10, 4, tzinfo=timezone.utc))
        assert switch.status().engaged and breakers.update(D(1000)).current is HALTED  # type: ignore[union-attr]


def test_bad_breaker_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reducing or halted"):
        BreakerConfig(daily_loss_state=ACTIVE)
    with pytest.raises(ValueError, match="loss limits"):
        BreakerConfig(max_drawdown_pct=D(-1))
    with pytest.raises(ValueError, match="needs a reason"), _ledger(tmp_path) as ledger:
        StoredKillSwitch(ledger).engage(" ", "bob", 0)
    assert NoKillSwitch().status().engaged is False


def test_refresh_obeys_the_kill_switch_without_fresh_equity(tmp_path: Path) -> None:
    with _ledger(tmp_path) as ledger:
        switch = StoredKillSwitch(ledger)
        clock = BacktestClock(DAY1)
        breakers = CircuitBreakers(BreakerConfig(), clock, switch)
        assert breakers.refresh() is None  # nothing known yet, nothing pulled
        breakers.update(D(10_000))
        clock.observe(DAY1 + HOUR)
        assert breakers.update(D(9_800)) is None  # 2%: below the limit, the day started at 10,000
        switch.engage("manual", "ops", DAY1 + HOUR)
        assert breakers.refresh().current is HALTED  # type: ignore[union-attr]
        switch.release("ops", DAY1 + 2 * HOUR)
        assert breakers.refresh().current is ACTIVE  # type: ignore[union-attr]
        clock.observe(DAY1 + 3 * HOUR)
        assert breakers.update(D(9_690)).current is HALTED  # type: ignore[union-attr]  # 3.1% of 10,000


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10), st.integers(85_000, 110_000)), min_size=1, max_size=40))
def test_daily_and_drawdown_breakers_follow_a_reference_model(steps: list[tuple[int, int]]) -> None:
    config = BreakerConfig(daily_loss_limit_pct=D(3), max_drawdown_pct=D(10), stop_out_limit=0)
    clock = BacktestClock(DAY1)
    breakers = CircuitBreakers(config, clock)
    now, day, day_start, tripped, peak, latched = DAY1, None, D(0), False, D(0), False
    for hours, value in steps:
        now += hours * HOUR
        clock.observe(now)
        equity = D(value)
        breakers.update(equity)
        # the reference model, written independently
        if now // (24 * HOUR) != day:
            day, day_start, tripped = now // (24 * HOUR), equity, False
        tripped = tripped or (day_start - equity) * 100 / day_start >= 3
        peak = max(peak, equity)
        latched = latched or (peak - equity) * 100 / peak >= 10
        expected = HALTED if tripped or latched else ACTIVE
        assert breakers.state is expected
        assert breakers.allows_entries is (expected is ACTIVE)
