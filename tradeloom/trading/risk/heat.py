"""Portfolio heat: the sum over open positions of the loss to their stops, with a cap per cluster.

A position whose stop is at or beyond its entry (breakeven, trailing) adds no heat. A new
entry is shrunk to the room left under the portfolio cap and under its correlation
cluster's cap, or refused when there is no room. Clusters are symbols whose returns
correlate above a threshold over a window (linked transitively).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradeloom.trading.risk.increments import floor_to_step

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class HeatConfig:
    """Caps on open risk, in percent of equity."""

    max_heat_pct: Decimal = Decimal(6)
    cluster_heat_pct: Decimal = Decimal(3)
    correlation_threshold: float = 0.7
    correlation_window: int = 60
    correlation_refresh_s: int = 86_400  # clusters are recomputed at most once per this period (from the epoch)

    def __post_init__(self) -> None:
        if self.max_heat_pct <= 0 or self.cluster_heat_pct <= 0:
            raise ValueError("heat caps must be positive percentages")
        if not 0 < self.correlation_threshold < 1 or self.correlation_window < 3:
            raise ValueError("correlation threshold must be in (0, 1) and the window at least 3 returns")
        if self.correlation_refresh_s <= 0:
            raise ValueError(f"correlation refresh period must be positive seconds, got {self.correlation_refresh_s}")


@dataclass(frozen=True)
class HeatDecision:
    """The risk a new entry may add: all, part (``shrunk``) or none (``reason`` says why)."""

    allowed_risk: Decimal
    proposed_risk: Decimal
    reason: str | None = None

    @property
    def refused(self) -> bool:
        """True when no risk at all may be added."""
        return self.allowed_risk <= 0

    @property
    def shrunk(self) -> bool:
        """True when only part of the proposed risk fits."""
        return ZERO < self.allowed_risk < self.proposed_risk

    def quantity(self, proposed_quantity: Decimal, lot_size: Decimal) -> Decimal:
        """``proposed_quantity`` scaled to the allowed risk, rounded down to whole lots."""
        if self.proposed_risk <= 0 or self.allowed_risk >= self.proposed_risk:
            return proposed_quantity
        return floor_to_step(proposed_quantity * self.allowed_risk / self.proposed_risk, lot_size)


def loss_to_stop(sign: int, entry: Decimal, stop: Decimal, quantity: Decimal) -> Decimal:
    """The loss if the stop fills (``sign`` +1 long, -1 short); 0 once the stop protects the entry."""
    return max(ZERO, (entry - stop) * sign * quantity)


class HeatBook:
    """Open risk per position, kept incrementally so a price update costs O(changed positions)."""

    __slots__ = ("_risk", "_symbol", "_by_symbol", "total")

    def __init__(self) -> None:
        self._risk: dict[str, Decimal] = {}
        self._symbol: dict[str, str] = {}
        self._by_symbol: dict[str, Decimal] = {}
        self.total = ZERO

    def set(self, position_id: str, symbol: str, risk: Decimal) -> None:
        """Record (or replace) the loss to stop of one position."""
        if risk < 0:
            raise ValueError(f"open risk of {position_id} must not be negative, got {risk}")
        old = self._risk.get(position_id, ZERO)
        self._risk[position_id] = risk
        self._symbol[position_id] = symbol
        self._by_symbol[symbol] = self._by_symbol.get(symbol, ZERO) + risk - old
        self.total += risk - old

    def remove(self, position_id: str) -> None:
        """Forget a closed position."""
        risk = self._risk.pop(position_id, None)
        if risk is None:
            return
        symbol = self._symbol.pop(position_id)
        self._by_symbol[symbol] -= risk
        self.total -= risk

    def symbol_risk(self, symbol: str) -> Decimal:
        """Open risk of all positions in ``symbol``."""
        return self._by_symbol.get(symbol, ZERO)

    def cluster_risk(self, symbols: Sequence[str]) -> Decimal:
        """Open risk of all positions in ``symbols``."""
        return sum((self._by_symbol.get(symbol, ZERO) for symbol in symbols), ZERO)

    def __len__(self) -> int:
        return len(self._risk)


def fit_entry(
    book: HeatBook,
    config: HeatConfig,
    equity: Decimal,
    symbol: str,
    proposed_risk: Decimal,
    clusters: Mapping[str, frozenset[str]] | None = None,
) -> HeatDecision:
    """How much of ``proposed_risk`` a new entry in ``symbol`` may add under the heat caps."""
    if equity <= 0:
        return HeatDecision(ZERO, proposed_risk, f"equity {equity} is not positive")
    if proposed_risk <= 0:
        return HeatDecision(proposed_risk, proposed_risk)
    cap = equity * config.max_heat_pct / HUNDRED
    room = cap - book.total
    if room <= 0:
        heat = book.total * HUNDRED / equity
        return HeatDecision(ZERO, proposed_risk, f"portfolio heat {heat:.2f}% is at its cap {config.max_heat_pct}%")
    reason = None
    if proposed_risk > room:
        reason = f"shrunk to the {room * HUNDRED / equity:.2f}% of equity left under the {config.max_heat_pct}% heat cap"
    allowed = min(proposed_risk, room)
    cluster = (clusters or {}).get(symbol)
    if cluster is not None and len(cluster) > 1:
        cluster_room = equity * config.cluster_heat_pct / HUNDRED - book.cluster_risk(sorted(cluster))
        if cluster_room <= 0:
            names = ",".join(sorted(cluster))
            return HeatDecision(ZERO, proposed_risk, f"cluster {names} is at its heat cap {config.cluster_heat_pct}%")
        if cluster_room < allowed:
            allowed = cluster_room
            reason = f"shrunk to fit the {config.cluster_heat_pct}% heat cap of cluster {','.join(sorted(cluster))}"
    return HeatDecision(allowed, proposed_risk, reason)


def correlation_clusters(
    returns: Mapping[str, Sequence[float]], threshold: float, window: int
) -> dict[str, frozenset[str]]:
    """Each symbol's cluster: symbols linked by return correlation above ``threshold`` over the last ``window``."""
    symbols = sorted(returns)
    parent = {symbol: symbol for symbol in symbols}

    def _root(symbol: str) -> str:
        while parent[symbol] != symbol:
            parent[symbol] = parent[parent[symbol]]
            symbol = parent[symbol]
        return symbol

    usable = [s for s in symbols if len(returns[s]) >= window]
    if len(usable) > 1:
        matrix = np.array([np.asarray(returns[s], dtype=float)[-window:] for s in usable])
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(matrix)
        linked = np.triu(np.nan_to_num(corr, nan=0.0) > threshold, k=1)  # a flat series (NaN) links nothing
        for i, j in zip(*np.nonzero(linked)):
            parent[_root(usable[i])] = _root(usable[j])
    groups: dict[str, set[str]] = {}
    for symbol in symbols:
        groups.setdefault(_root(symbol), set()).add(symbol)
    return {symbol: frozenset(groups[_root(symbol)]) for symbol in symbols}
