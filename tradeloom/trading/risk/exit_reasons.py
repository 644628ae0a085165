"""Exit reasons as the risk side records them, and their grouping for reports.

A reason is a kind, optionally followed by ``": "`` and details: ``stop``, ``breakeven``,
``trailing``, ``scale_out_2R`` (one kind per level), ``conditional: rsi, macd_cross``,
``breaker: daily loss ...``, ``signal``. Reports count exits by kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

STOP, BREAKEVEN, TRAILING, CONDITIONAL, BREAKER, SIGNAL = "stop", "breakeven", "trailing", "conditional", "breaker", "signal"


def exit_kind(reason: str) -> str:
    """The kind of an exit reason: the part before ``": "`` (``conditional: rsi`` -> ``conditional``)."""
    kind = reason.split(":", 1)[0].strip()
    if not kind:
        raise ValueError(f"exit reason {reason!r} has no kind")
    return kind


def exits_by_kind(reasons: Iterable[str]) -> dict[str, int]:
    """How many exits of each kind, most frequent first (ties by name)."""
    counts = Counter(exit_kind(reason) for reason in reasons)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
