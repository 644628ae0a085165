"""What an ingestion run did, unit by unit, and its markdown artifact."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass
class UnitOutcome:
    """One unit of work: a source, symbol, timeframe and range, and what became of it."""

    source: str
    symbol: str
    timeframe: str
    start: datetime
    end: datetime
    status: str  # stored | empty | quarantined | failed | skipped
    rows_added: int = 0
    rows_updated: int = 0
    watermark_before: datetime | None = None
    watermark_after: datetime | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    """Every unit of one run; ``ok`` is False when anything was quarantined or failed."""

    flow: str
    units: list[UnitOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was quarantined and nothing failed."""
        return all(u.status in ("stored", "empty", "skipped") for u in self.units)

    def problems(self) -> list[str]:
        """One line per quarantined or failed unit."""
        return [
            f"{u.source} {u.symbol} {u.timeframe} {u.start:%Y-%m-%d %H:%M}..{u.end:%Y-%m-%d %H:%M}: {u.status}: {u.message}"
            for u in self.units
            if u.status in ("quarantined", "failed")
        ]

    def to_json(self) -> dict:
        """A JSON-serialisable form for ``--json`` and flow results."""
        units = []
        for unit in self.units:
            row = asdict(unit)
            for key in ("start", "end", "watermark_before", "watermark_after"):
                row[key] = row[key].isoformat() if row[key] else None
            units.append(row)
        return {"flow": self.flow, "ok": self.ok, "units": units}

    def markdown(self) -> str:
        """The run's artifact: rows added per symbol and timeframe, quarantined batches, watermarks moved."""
        totals: dict[tuple[str, str, str], list[int]] = {}
        for unit in self.units:
            row = totals.setdefault((unit.source, unit.symbol, unit.timeframe), [0, 0, 0])
            row[0] += unit.rows_added
            row[1] += unit.rows_updated
            row[2] += unit.status == "quarantined"
        lines = [f"# Ingestion: {self.flow}", "", "| source | symbol | timeframe | rows added | rows updated | quarantined |", "|---|---|---|---:|---:|---:|"]
        lines += [f"| {s} | {sym} | {tf} | {a} | {u} | {q} |" for (s, sym, tf), (a, u, q) in sorted(totals.items())]
        moved = [u for u in self.units if u.watermark_after and u.watermark_after != u.watermark_before]
        lines += ["", "## Watermarks moved", ""]
        lines += [f"- {u.source} {u.symbol} {u.timeframe}: {u.watermark_before or '(none)'} -> {u.watermark_after}" for u in moved] or ["- none"]
        lines += ["", "## Problems", ""]
        lines += [f"- {line}" for line in self.problems()] or ["- none"]
        warnings = [f"- {u.source} {u.symbol} {u.timeframe}: {w}" for u in self.units for w in u.warnings]
        if warnings:
            lines += ["", "## Warnings", "", *warnings]
        return "\n".join(lines) + "\n"
