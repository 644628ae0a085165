"""Risk state that survives a restart, kept in the ledger's trading-state switches.

- ``StoredKillSwitch``: the kill switch under key ``kill_switch`` (value ``on``/``off``), so
  the CLI and the live loop share it through the ledger.
- ``save_protection`` / ``load_protection``: the protection state of every open position
  (stop, best price, levels taken, pending scale-outs) under key ``protection``, so a
  restarted live loop keeps managing its positions exactly where it left off.
- ``save_breakers`` / ``load_breakers``: the circuit breakers' memory (the day's starting
  equity, the equity peak, a latched drawdown, the cooldown) under key ``circuit_breakers``,
  so a restart mid-day does not forget a tripped daily limit.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

from tradeloom.trading.clock import to_datetime
from tradeloom.trading.risk.breakers import CircuitBreakers
from tradeloom.trading.risk.protection import ProtectionState
from tradeloom.trading.risk.protection_rules import ProtectionConfig
from tradeloom.trading.risk.kill_switch import RELEASED, KillSwitchStatus

KILL_SWITCH_KEY = "kill_switch"
BREAKERS_KEY = "circuit_breakers"
PROTECTION_KEY = "protection"


@runtime_checkable
class StateStore(Protocol):
    """The ledger's trading-state switches (``SqlLedger`` has these)."""

    def set_state(self, key: str, value: str, reason: str, at: datetime) -> Any:
        """Set switch ``key``."""
        ...

    def get_state(self, key: str) -> Any:
        """The switch ``key`` (with ``value``, ``reason``, ``updated_at``) or None."""
        ...


def _ns(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 10**9 + moment.microsecond * 1000


class StoredKillSwitch:
    """The kill switch kept in the ledger; an unknown stored value counts as engaged (fail safe)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def status(self) -> KillSwitchStatus:
        """The switch as last stored."""
        entry = self.store.get_state(KILL_SWITCH_KEY)
        if entry is None:
            return RELEASED
        since = _ns(entry.updated_at)
        if entry.value == "off":
            return KillSwitchStatus(False, entry.reason, "", since)
        if entry.value != "on":
            return KillSwitchStatus(True, f"kill switch holds unknown value {entry.value!r}; treated as engaged", "", since)
        return KillSwitchStatus(True, entry.reason, "", since)

    def engage(self, reason: str, by: str, now_ns: int) -> KillSwitchStatus:
        """Pull the switch (``by`` is kept in the reason)."""
        if not reason.strip():
            raise ValueError("pulling the kill switch needs a reason")
        text = f"{reason} (by {by})" if by else reason
        self.store.set_state(KILL_SWITCH_KEY, "on", text, to_datetime(now_ns))
        return KillSwitchStatus(True, text, by, now_ns)

    def release(self, by: str, now_ns: int) -> KillSwitchStatus:
        """Release the switch."""
        text = f"released by {by}" if by else "released"
        self.store.set_state(KILL_SWITCH_KEY, "off", text, to_datetime(now_ns))
        return KillSwitchStatus(False, text, by, now_ns)


def save_breakers(breakers: CircuitBreakers, store: StateStore) -> None:
    """Write the breakers' memory to the ledger (call after every state change and once per day)."""
    memory = breakers.memory()
    store.set_state(BREAKERS_KEY, json.dumps(memory, sort_keys=True), breakers.reason,
                    to_datetime(breakers.clock.now_ns()))


def load_breakers(breakers: CircuitBreakers, store: StateStore) -> bool:
    """Restore the breakers' memory from the ledger; False if none was stored."""
    entry = store.get_state(BREAKERS_KEY)
    if entry is None:
        return False
    try:
        memory = json.loads(entry.value)
        breakers.restore(memory)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"stored circuit-breaker state is unreadable: {error}") from error
    return True



def save_protection(states: dict[str, ProtectionState], store: StateStore, now_ns: int) -> None:
    """Write the protection of every open position (``policy.states``) to the ledger."""
    memory = {position_id: state.memory() for position_id, state in states.items() if not state.is_closed}
    store.set_state(PROTECTION_KEY, json.dumps(memory, sort_keys=True), f"{len(memory)} open positions",
                    to_datetime(now_ns))


def load_protection(config: ProtectionConfig, store: StateStore) -> dict[str, ProtectionState]:
    """The protection states saved in the ledger, by position id (empty if none were saved)."""
    entry = store.get_state(PROTECTION_KEY)
    if entry is None or not entry.value:
        return {}
    try:
        memory = json.loads(entry.value)
        return {position_id: ProtectionState.restore(config, item) for position_id, item in memory.items()}
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as error:
        raise ValueError(f"stored protection state is unreadable: {error}") from error
