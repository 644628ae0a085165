"""The kill switch a person pulls (from the CLI) and the engine obeys within one loop.

The circuit breakers read ``KillSwitch.status()`` at every evaluation, so a pulled switch
halts trading at the next loop. The one stored implementation is ``StoredKillSwitch``
(``tradeloom.trading.risk.stored_state``): it lives in the ledger, which the CLI and every
live loop share, locally (SQLite) or across machines (PostgreSQL by URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class KillSwitchStatus:
    """Whether the switch is pulled, why, by whom and since when (ns since the epoch, UTC)."""

    engaged: bool
    reason: str = ""
    by: str = ""
    since_ns: int | None = None


RELEASED = KillSwitchStatus(False)


@runtime_checkable
class KillSwitch(Protocol):
    """Anything that can say whether trading must stop now."""

    def status(self) -> KillSwitchStatus:
        """The switch as it is now."""
        ...


class NoKillSwitch:
    """A switch that is never pulled (tests, research backtests)."""

    def status(self) -> KillSwitchStatus:
        """Always released."""
        return RELEASED
