"""Slippage tolerance: bounds on limit prices, flags on worse fills, a guard on market orders."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from tradeloom.trading.orders import Side
from tradeloom.trading.risk.increments import ceil_to_step, floor_to_step

HUNDRED = Decimal(100)


class MarketOnExcess(str, Enum):
    """What happens to a market order whose expected slippage exceeds the tolerance."""

    CONVERT = "convert"  # becomes a limit at the tolerance bound
    REFUSE = "refuse"


@dataclass(frozen=True)
class SlippageTolerance:
    """``tolerance_pct`` percent of the reference price."""

    tolerance_pct: Decimal = Decimal("0.5")
    on_excess: MarketOnExcess = MarketOnExcess.CONVERT

    def __post_init__(self) -> None:
        if not Decimal(0) < self.tolerance_pct < HUNDRED:
            raise ValueError(f"slippage tolerance must be in (0, 100) percent, got {self.tolerance_pct}")

    def worst_price(self, side: Side, reference: Decimal, tick_size: Decimal) -> Decimal:
        """The worst acceptable price on the tick grid: above the reference for a buy, below for a sell."""
        if side is Side.BUY:
            return floor_to_step(reference * (1 + self.tolerance_pct / HUNDRED), tick_size)
        return ceil_to_step(reference * (1 - self.tolerance_pct / HUNDRED), tick_size)

    def bound_limit(self, side: Side, reference: Decimal, price: Decimal, tick_size: Decimal) -> Decimal:
        """``price`` pulled back within the tolerance of ``reference``."""
        worst = self.worst_price(side, reference, tick_size)
        return min(price, worst) if side is Side.BUY else max(price, worst)


@dataclass(frozen=True)
class FillQuality:
    """How far a fill landed from its reference, adverse positive, and whether that broke the tolerance."""

    slippage_pct: Decimal
    flagged: bool


def fill_quality(tolerance: SlippageTolerance, side: Side, reference: Decimal, fill_price: Decimal) -> FillQuality:
    """Judge a fill against the reference price it was expected at."""
    slippage = (fill_price - reference) * side.sign * HUNDRED / reference
    return FillQuality(slippage, slippage > tolerance.tolerance_pct)


@dataclass(frozen=True)
class MarketGuard:
    """A market order's fate: send it, convert it to a limit at ``limit_price``, or refuse it."""

    action: str  # "send", "convert", "refuse"
    reason: str
    limit_price: Decimal | None = None


def guard_market_order(
    tolerance: SlippageTolerance, side: Side, reference: Decimal, expected_slippage_pct: Decimal, tick_size: Decimal
) -> MarketGuard:
    """Let a market order through if its expected slippage is within tolerance; else convert or refuse."""
    if expected_slippage_pct <= tolerance.tolerance_pct:
        return MarketGuard("send", f"expected slippage {expected_slippage_pct:.3f}% within {tolerance.tolerance_pct}%")
    why = f"expected slippage {expected_slippage_pct:.3f}% exceeds the tolerance {tolerance.tolerance_pct}%"
    if tolerance.on_excess is MarketOnExcess.REFUSE:
        return MarketGuard("refuse", why)
    price = tolerance.worst_price(side, reference, tick_size)
    return MarketGuard("convert", f"{why}: converted to a limit at {price}", price)
