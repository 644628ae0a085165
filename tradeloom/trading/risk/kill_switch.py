"""The kill switch a person pulls (from the CLI) and the engine obeys within one loop.

``FileKillSwitch`` keeps its state in a small JSON file (written atomically), so a CLI
process and the live loop share it without a server; the loop reads it on every breaker
evaluation.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
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


class FileKillSwitch:
    """A kill switch stored as JSON at ``path``; a missing file means released."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def status(self) -> KillSwitchStatus:
        """Read the switch; a file that is not a valid switch record counts as engaged (fail safe)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return RELEASED
        try:
            data = json.loads(text)
            return KillSwitchStatus(bool(data["engaged"]), str(data.get("reason", "")), str(data.get("by", "")),
                                    None if data.get("since_ns") is None else int(data["since_ns"]))
        except (ValueError, KeyError, TypeError):
            return KillSwitchStatus(True, f"kill switch file {self.path} is unreadable; treated as engaged")

    def engage(self, reason: str, by: str, now_ns: int) -> KillSwitchStatus:
        """Pull the switch."""
        if not reason.strip():
            raise ValueError("pulling the kill switch needs a reason")
        return self._write(KillSwitchStatus(True, reason, by, now_ns))

    def release(self, by: str, now_ns: int) -> KillSwitchStatus:
        """Release the switch."""
        return self._write(KillSwitchStatus(False, "released", by, now_ns))

    def _write(self, status: KillSwitchStatus) -> KillSwitchStatus:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(asdict(status)), encoding="utf-8")
        os.replace(temporary, self.path)
        return status
