"""A tradable instrument: its increments, limits and the rounding rules used where orders are made.

Rounding rules (also in docs/simulation-assumptions.md):

- Quantities always round *down* to the lot size (never trade more than asked).
- Prices round to the nearest tick by default (``round_price``). Where an order is made
  with a side, ``safe_price`` rounds in the direction that can never hurt the owner:
  a BUY rounds down and a SELL rounds up. For limit orders that means the price is never
  worse than requested; for protective stops (a SELL stop under a long, a BUY stop over a
  short) it means the stop is never looser than requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import Protocol


class InstrumentKind(str, Enum):
    """What sort of market an instrument trades in."""

    SPOT = "spot"
    PERPETUAL = "perpetual"
    FX = "fx"
    EQUITY = "equity"


def _decimal(value: Decimal | str | int | float, name: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(value)
    except Exception:  # decimal.InvalidOperation and friends
        raise ValueError(f"{name} must be a decimal number, got {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


_ONE = Decimal(1)


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _is_power_of_ten(step: Decimal) -> bool:
    """True for 1, 0.1, 0.01, ...: steps that ``quantize`` can round to directly."""
    normal = step.normalize().as_tuple()
    return normal.digits == (1,) and int(normal.exponent) <= 0


@dataclass(frozen=True)
class Instrument:
    """One tradable instrument with the increments and limits its venue enforces."""

    symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_notional: Decimal = Decimal(0)
    max_notional: Decimal | None = None
    min_quantity: Decimal | None = None
    price_precision: int = field(default=-1)
    size_precision: int = field(default=-1)

    def __post_init__(self) -> None:
        if not self.symbol:
            raise ValueError("instrument symbol must not be empty")
        kind = self.kind if isinstance(self.kind, InstrumentKind) else InstrumentKind(self.kind)
        object.__setattr__(self, "kind", kind)
        for name in ("tick_size", "lot_size", "min_notional"):
            object.__setattr__(self, name, _decimal(getattr(self, name), f"{self.symbol} {name}"))
        for name in ("max_notional", "min_quantity"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _decimal(getattr(self, name), f"{self.symbol} {name}"))
        if self.tick_size <= 0:
            raise ValueError(f"{self.symbol} tick_size must be > 0, got {self.tick_size}")
        if self.lot_size <= 0:
            raise ValueError(f"{self.symbol} lot_size must be > 0, got {self.lot_size}")
        if self.min_notional < 0:
            raise ValueError(f"{self.symbol} min_notional must be >= 0, got {self.min_notional}")
        if self.max_notional is not None and self.max_notional <= self.min_notional:
            raise ValueError(f"{self.symbol} max_notional {self.max_notional} must exceed min_notional")
        if self.price_precision < 0:
            object.__setattr__(self, "price_precision", _places(self.tick_size))
        if self.size_precision < 0:
            object.__setattr__(self, "size_precision", _places(self.lot_size))
        # quantize() steps for power-of-ten increments (the fast path), None otherwise
        object.__setattr__(self, "_tick_q", self.tick_size.normalize() if _is_power_of_ten(self.tick_size) else None)
        object.__setattr__(self, "_lot_q", self.lot_size.normalize() if _is_power_of_ten(self.lot_size) else None)

    # -- rounding -------------------------------------------------------------------------

    @staticmethod
    def _to_step(value: Decimal | float | int | str, step: Decimal, q: Decimal | None, rounding: str) -> Decimal:
        v = value if isinstance(value, Decimal) else Decimal(value)  # a float converts exactly
        if q is not None:
            return v.quantize(q, rounding=rounding)
        return (v / step).quantize(_ONE, rounding=rounding) * step

    def round_price(self, price: Decimal | float | int | str) -> Decimal:
        """``price`` rounded to the nearest tick (half to even)."""
        q = self._tick_q  # type: ignore[attr-defined]
        if q is not None:  # the common case, without the extra call
            return (price if isinstance(price, Decimal) else Decimal(price)).quantize(q, ROUND_HALF_EVEN)
        return self._to_step(price, self.tick_size, q, ROUND_HALF_EVEN)

    def safe_price(self, side: str, price: Decimal | float | int | str) -> Decimal:
        """``price`` rounded to a tick in the owner's safe direction: BUY down, SELL up."""
        rounding = ROUND_FLOOR if side == "BUY" or str(side).upper().endswith("BUY") else ROUND_CEILING
        return self._to_step(price, self.tick_size, self._tick_q, rounding)  # type: ignore[attr-defined]

    def round_quantity(self, quantity: Decimal | float | int | str) -> Decimal:
        """``quantity`` rounded down (towards zero) to the lot size."""
        return self._to_step(quantity, self.lot_size, self._lot_q, ROUND_DOWN)  # type: ignore[attr-defined]

    # -- exchange rules -------------------------------------------------------------------

    def order_problem(self, quantity: Decimal, price: Decimal | None) -> str | None:
        """Why an order of ``quantity`` at ``price`` breaks this instrument's rules, or None if it does not."""
        if quantity <= 0:
            return f"quantity {quantity} must be positive"
        if quantity % self.lot_size != 0:
            return f"quantity {quantity} is not a multiple of the lot size {self.lot_size}"
        if self.min_quantity is not None and quantity < self.min_quantity:
            return f"quantity {quantity} is below the minimum quantity {self.min_quantity}"
        if price is None:
            return None
        if price <= 0:
            return f"price {price} must be positive"
        if price % self.tick_size != 0:
            return f"price {price} is not a multiple of the tick size {self.tick_size}"
        notional = quantity * price
        if notional < self.min_notional:
            return f"notional {notional} is below the minimum notional {self.min_notional}"
        if self.max_notional is not None and notional > self.max_notional:
            return f"notional {notional} is above the maximum notional {self.max_notional}"
        return None


def instrument_for(
    symbol: str,
    kind: InstrumentKind | str,
    tick_size: Decimal | str,
    lot_size: Decimal | str,
    min_notional: Decimal | str = "0",
    base: str | None = None,
    quote: str | None = None,
    max_notional: Decimal | str | None = None,
) -> Instrument:
    """An Instrument with base/quote split from a six-letter symbol when not given (EURUSD -> EUR, USD)."""
    if base is None or quote is None:
        clean = symbol.replace("/", "").replace("-", "").upper()
        if len(clean) != 6 and (base is None or quote is None):
            raise ValueError(f"cannot split {symbol!r} into base and quote; pass base= and quote=")
        base, quote = base or clean[:3], quote or clean[3:]
    return Instrument(
        symbol=symbol,
        kind=InstrumentKind(kind),
        base=base,
        quote=quote,
        tick_size=Decimal(tick_size),
        lot_size=Decimal(lot_size),
        min_notional=Decimal(min_notional),
        max_notional=None if max_notional is None else Decimal(max_notional),
    )


class MarketListing(Protocol):
    """What ``instrument_from_listing`` reads (``tradeloom.data.instruments.MarketInstrument`` has it)."""

    symbol: str
    asset_class: str
    dukascopy_divisor: float | None
    base: str | None
    quote: str | None


_KINDS = {"fx": InstrumentKind.FX, "metal": InstrumentKind.FX, "crypto": InstrumentKind.SPOT,
          "equity": InstrumentKind.EQUITY, "index": InstrumentKind.EQUITY, "commodity": InstrumentKind.EQUITY}


def instrument_from_listing(listing: MarketListing, lot_size: Decimal | str = "1", min_notional: Decimal | str = "0",
                            tick_size: Decimal | str | None = None) -> Instrument:
    """A tradable Instrument for a market-data listing: the tick from its price divisor unless given (else 0.01)."""
    if tick_size is None:
        divisor = listing.dukascopy_divisor
        tick_size = Decimal(1) / Decimal(int(divisor)) if divisor else Decimal("0.01")
    kind = _KINDS.get(listing.asset_class)
    if kind is None:
        raise ValueError(f"{listing.symbol}: no trading kind for asset class {listing.asset_class!r}")
    return Instrument(listing.symbol, kind, listing.base or listing.symbol, listing.quote or "USD",
                      Decimal(tick_size), Decimal(lot_size), Decimal(min_notional))
