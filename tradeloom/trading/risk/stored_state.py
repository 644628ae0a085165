"""Risk state that survives a restart and is shared through the ledger's trading-state switches.

- ``StoredKillSwitch``: the one kill switch, under key ``kill_switch``. The ledger is what
  the CLI and every live loop already share (SQLite under TRADELOOM_HOME, or PostgreSQL by
  URL when the loop runs on another machine), so a person pulling it anywhere stops every
  loop reading that ledger at its next evaluation.
- ``save_protection`` / ``load_protection``: the protection state of every open position
  (stop, best price, levels taken, pending scale-outs) under key ``protection``, so a
  restarted live loop keeps managing its positions exactly where it left off.
- ``save_breakers`` / ``load_breakers``: the circuit breakers' memory (the day's starting
  equity, the equity peak, a latched drawdown, the cooldown) under key ``circuit_breakers``,
  so a restart mid-day does not forget a tripped daily limit.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from tradeloom.trading.clock import to_datetime
from tradeloom.trading.ledger.columns import from_ns, utc_ns
from tradeloom.trading.risk.breakers import CircuitBreakers
from tradeloom.trading.risk.kill_switch import RELEASED, KillSwitchStatus
from tradeloom.trading.risk.protection import ProtectionState
from tradeloom.trading.risk.protection_rules import ProtectionConfig

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


class StoredKillSwitch:
    """The kill switch kept in the ledger: value ``{"engaged": bool, "by": who}``, the reason, and when.

    It fails safe: a stored value it cannot read, or a ledger it cannot read from (a lock held past
    the busy timeout, a lost connection, a missing table), counts as engaged. A loop that cannot reach its ledger
    could not write its order intents before sending them anyway; it resumes at the first
    evaluation that reads a released switch.
    """

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def status(self) -> KillSwitchStatus:
        """The switch as last stored (who pulled or released it, why, since when)."""
        try:
            entry = self.store.get_state(KILL_SWITCH_KEY)
        except Exception as error:  # noqa: BLE001 - any failure to read the switch must halt, never trade on
            return KillSwitchStatus(True, f"the ledger holding the kill switch cannot be read; treated as engaged "
                                          f"({type(error).__name__}: {error})")
        if entry is None:
            return RELEASED
        since = utc_ns(entry.updated_at)
        try:
            value = json.loads(entry.value)
            engaged, by = value["engaged"], value["by"]
            if not isinstance(engaged, bool) or not isinstance(by, str):
                raise TypeError("engaged must be a boolean and by a string")
        except (ValueError, KeyError, TypeError):
            return KillSwitchStatus(True, f"kill switch holds the unreadable value {entry.value!r}; treated as engaged",
                                    "", since)
        return KillSwitchStatus(engaged, entry.reason, by, since)

    def engage(self, reason: str, by: str, now_ns: int) -> KillSwitchStatus:
        """Pull the switch: every loop on this ledger halts at its next evaluation."""
        if not reason.strip():
            raise ValueError("pulling the kill switch needs a reason")
        return self._store(True, reason.strip(), by, now_ns)

    def release(self, by: str, now_ns: int, reason: str = "released") -> KillSwitchStatus:
        """Release the switch."""
        return self._store(False, reason.strip() or "released", by, now_ns)

    def _store(self, engaged: bool, reason: str, by: str, now_ns: int) -> KillSwitchStatus:
        value = json.dumps({"engaged": engaged, "by": by}, sort_keys=True)
        entry = self.store.set_state(KILL_SWITCH_KEY, value, reason, from_ns(now_ns))
        return KillSwitchStatus(engaged, reason, by, utc_ns(entry.updated_at))


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
