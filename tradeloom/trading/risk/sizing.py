"""Position sizing: fixed-fractional risk with equity bands, capped Kelly, volatility targeting, a size cap.

The risk per trade is the band's percentage of equity (2% falling toward 0.5% as equity
grows), lowered to a fraction of the Kelly bet once enough trades exist. The quantity is
the largest whole number of lots whose loss to the stop stays within that risk, then cut
by volatility targeting and by the maximum position share of equity; the binding limit is
named in the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from tradeloom.trading.risk.increments import floor_to_step

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class RiskBand:
    """From ``from_equity`` on, risk ``risk_pct`` percent of equity per trade."""

    from_equity: Decimal
    risk_pct: Decimal


def parse_risk_bands(text: str) -> tuple[RiskBand, ...]:
    """Parse ``"0:2,50000:1.5,200000:1,1000000:0.5"`` (equity from : risk %) into bands."""
    bands: list[RiskBand] = []
    for part in (p for p in text.split(",") if p.strip()):
        if part.count(":") != 1:
            raise ValueError(f"risk band {part!r} must look like EQUITY:RISK_PCT, e.g. 50000:1.5")
        equity, risk = part.split(":")
        try:
            bands.append(RiskBand(Decimal(equity.strip()), Decimal(risk.strip())))
        except ArithmeticError:
            raise ValueError(f"risk band {part!r} is not two numbers") from None
    return tuple(sorted(bands, key=lambda band: band.from_equity))


@dataclass(frozen=True)
class TradeStats:
    """Outcome statistics of past trades, for the Kelly fraction."""

    trades: int
    win_rate: Decimal  # 0..1
    payoff: Decimal  # average win / average loss


class TradeTally:
    """Net results of closed trades, kept as they close, for the Kelly fraction."""

    __slots__ = ("wins", "losses", "won", "lost")

    def __init__(self) -> None:
        self.wins, self.losses = 0, 0
        self.won, self.lost = ZERO, ZERO

    def record(self, pnl: Decimal) -> None:
        """Add one closed trade's net result (a zero result counts as a loss: it paid for nothing)."""
        if pnl > 0:
            self.wins, self.won = self.wins + 1, self.won + pnl
        else:
            self.losses, self.lost = self.losses + 1, self.lost - pnl

    def stats(self) -> TradeStats | None:
        """Win rate and payoff so far; None until there is at least one win and one loss."""
        if not self.wins or not self.losses or self.lost == 0:
            return None
        payoff = (self.won / self.wins) / (self.lost / self.losses)
        return TradeStats(self.wins + self.losses, Decimal(self.wins) / (self.wins + self.losses), payoff)


@dataclass(frozen=True)
class SizingConfig:
    """Rules of position sizing; validated on construction."""

    risk_bands: tuple[RiskBand, ...] = field(
        default_factory=lambda: parse_risk_bands("0:2,50000:1.5,200000:1,1000000:0.5")
    )
    kelly_min_trades: int = 30  # 0 turns the Kelly cap off
    kelly_multiplier: Decimal = Decimal("0.5")
    volatility_target_pct: Decimal = ZERO  # per bar, of equity; 0 turns volatility targeting off
    max_position_pct: Decimal = Decimal(20)

    def __post_init__(self) -> None:
        if not self.risk_bands or self.risk_bands[0].from_equity != 0:
            raise ValueError("risk bands must start at equity 0")
        for band in self.risk_bands:
            if not ZERO < band.risk_pct <= HUNDRED:
                raise ValueError(f"risk band {band} must risk more than 0% and at most 100%")
        if self.kelly_min_trades < 0 or not ZERO < self.kelly_multiplier <= 1:
            raise ValueError("kelly needs a trade count >= 0 (0 turns it off) and a multiplier in (0, 1]")
        if self.volatility_target_pct < 0 or not ZERO < self.max_position_pct <= HUNDRED:
            raise ValueError("volatility target must be >= 0 and max position share in (0, 100]")


@dataclass(frozen=True)
class SizeDecision:
    """How much to buy or sell, the risk it carries, and which rule bound it."""

    quantity: Decimal
    risk_pct: Decimal
    risk_amount: Decimal
    binding: str  # "risk", "kelly", "volatility", "max_position"


def band_risk_pct(bands: tuple[RiskBand, ...], equity: Decimal) -> Decimal:
    """The risk per trade, in percent, of the band ``equity`` falls in."""
    risk = bands[0].risk_pct
    for band in bands:
        if equity >= band.from_equity:
            risk = band.risk_pct
    return risk


def kelly_pct(stats: TradeStats, multiplier: Decimal) -> Decimal:
    """``multiplier`` times the Kelly bet (W - (1 - W) / payoff) in percent, never below 0."""
    if not ZERO <= stats.win_rate <= 1 or stats.payoff <= 0:
        raise ValueError(f"win rate must be in [0, 1] and payoff positive, got {stats}")
    full = stats.win_rate - (1 - stats.win_rate) / stats.payoff
    return max(ZERO, full * multiplier * HUNDRED)


def position_size(
    config: SizingConfig,
    equity: Decimal,
    entry: Decimal,
    stop: Decimal,
    lot_size: Decimal,
    stats: TradeStats | None = None,
    volatility_pct: Decimal | None = None,
) -> SizeDecision:
    """The size of a new position from entry to stop; ``volatility_pct`` is the asset's, same horizon as the target."""
    if equity <= 0:
        raise ValueError(f"equity must be positive to size a position, got {equity}")
    distance = abs(entry - stop)
    if entry <= 0 or distance == 0:
        raise ValueError(f"entry {entry} must be positive and differ from the stop {stop}")
    risk_pct, binding = band_risk_pct(config.risk_bands, equity), "risk"
    if stats is not None and config.kelly_min_trades > 0 and stats.trades >= config.kelly_min_trades:
        kelly = kelly_pct(stats, config.kelly_multiplier)
        if kelly < risk_pct:
            risk_pct, binding = kelly, "kelly"
    quantity = equity * risk_pct / HUNDRED / distance
    if config.volatility_target_pct > 0 and volatility_pct is not None and volatility_pct > 0:
        by_volatility = equity * config.volatility_target_pct / (entry * volatility_pct)
        if by_volatility < quantity:
            quantity, binding = by_volatility, "volatility"
    by_share = equity * config.max_position_pct / HUNDRED / entry
    if by_share < quantity:
        quantity, binding = by_share, "max_position"
    quantity = floor_to_step(quantity, lot_size)
    risk_amount = quantity * distance
    return SizeDecision(quantity, risk_amount * HUNDRED / equity, risk_amount, binding)


def bar_volatility_pct(closes: Sequence[float]) -> Decimal | None:
    """The standard deviation of per-bar log returns, in percent (None with fewer than 3 positive closes)."""
    values = np.asarray(closes, dtype=float)
    if len(values) < 3 or not (values > 0).all():
        return None
    return Decimal(repr(float(np.diff(np.log(values)).std(ddof=1) * 100)))
