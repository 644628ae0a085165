"""Maker and taker fees, charged in the quote currency on each fill's notional."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradeloom.trading.orders import Liquidity


@dataclass(frozen=True)
class FeeSchedule:
    """Fee rates as fractions of notional (0.001 = 0.1 %); a negative maker rate is a rebate."""

    maker: Decimal = Decimal(0)
    taker: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("maker", "taker"):
            value = Decimal(str(getattr(self, name)))
            if not -1 < value < 1:
                raise ValueError(f"{name} fee rate must be a fraction in (-1, 1), got {value}")
            object.__setattr__(self, name, value)

    @classmethod
    def percent(cls, maker_pct: Decimal | str | float, taker_pct: Decimal | str | float) -> FeeSchedule:
        """Rates given in percent (0.1 -> 0.001)."""
        return cls(Decimal(str(maker_pct)) / 100, Decimal(str(taker_pct)) / 100)

    def fee(self, notional: Decimal, liquidity: Liquidity) -> Decimal:
        """The fee for a fill of ``notional`` (exact, not rounded)."""
        return notional * (self.maker if liquidity is Liquidity.MAKER else self.taker)
