"""A flow run's progress in units of work, published as a Prefect progress artifact.

The artifact's progress is the percentage the Prefect UI draws; its description carries
the exact count (``"3/12 units"``), which ``UnitCount.parse`` reads back for the CLI's bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

_DESCRIPTION = re.compile(r"^(\d+)/(\d+) (\S.*)$")


@dataclass(frozen=True)
class UnitCount:
    """``completed`` of ``total`` units of work (hours, days, requests) done."""

    completed: int
    total: int
    unit: str = "units"

    def __post_init__(self) -> None:
        if not 0 <= self.completed <= self.total:
            raise ValueError(f"completed units must be within 0..total, got {self.completed}/{self.total}")

    @property
    def percent(self) -> float:
        """Share done, 0 to 100 (an empty run is complete)."""
        return 100.0 if self.total == 0 else 100.0 * self.completed / self.total

    def describe(self) -> str:
        """The artifact description, e.g. ``"3/12 units"``."""
        return f"{self.completed}/{self.total} {self.unit}"

    @classmethod
    def parse(cls, description: str | None) -> "UnitCount | None":
        """The count in an artifact description written by ``describe``; None for any other text."""
        match = _DESCRIPTION.match(description or "")
        if match is None or int(match.group(1)) > int(match.group(2)):
            return None
        return cls(int(match.group(1)), int(match.group(2)), match.group(3))


class UnitProgress:
    """Counts units of work in the current flow run and keeps its progress artifact up to date."""

    def __init__(self, key: str, unit: str = "units") -> None:
        self.key = key
        self.count = UnitCount(0, 0, unit)
        self._artifact_id: UUID | None = None

    def expect(self, units: int) -> None:
        """Add ``units`` more units to do (a fallback source adds its own)."""
        self._publish(UnitCount(self.count.completed, self.count.total + units, self.count.unit))

    def advance(self, units: int = 1) -> None:
        """Mark ``units`` more units done."""
        self._publish(UnitCount(self.count.completed + units, self.count.total, self.count.unit))

    def _publish(self, count: UnitCount) -> None:
        # Imported here: the CLI parses counts with this module and must not import Prefect to read data.
        from prefect.artifacts import create_progress_artifact, update_progress_artifact

        self.count = count
        if self._artifact_id is None:
            self._artifact_id = create_progress_artifact(count.percent, key=self.key, description=count.describe())
        else:
            update_progress_artifact(self._artifact_id, count.percent, description=count.describe())
