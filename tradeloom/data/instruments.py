"""The instruments tradeloom knows: vendor symbols, Dukascopy price divisors and trading calendars.

Dukascopy prices are integers in points; the divisor is per instrument (taken from
Dukascopy's own instrument metadata), never a rule such as "JPY pairs use 1000".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MarketInstrument:
    """One instrument and how each vendor names it."""

    symbol: str  # tradeloom's name: EURUSD, BTCUSD, AAPL
    asset_class: str  # fx | crypto | equity | metal | index | commodity
    calendar: str  # fx (Sun 21/22h - Fri 21/22h UTC) | 24x7 | equity
    dukascopy_divisor: float | None = None  # points per unit of price
    dukascopy_code: str | None = None  # the JSON API's code, e.g. EUR-USD
    yahoo_symbol: str | None = None  # EURUSD=X, BTC-USD, AAPL
    base: str | None = None  # FX and crypto: the base currency
    quote: str | None = None  # FX and crypto: the quote currency


def _fx(symbol: str, divisor: float) -> MarketInstrument:
    base, quote = symbol[:3], symbol[3:]
    return MarketInstrument(symbol, "fx", "fx", divisor, f"{base}-{quote}", f"{symbol}=X", base, quote)


def _crypto(symbol: str, divisor: float = 10.0) -> MarketInstrument:
    base, quote = symbol[:3], symbol[3:]
    return MarketInstrument(symbol, "crypto", "24x7", divisor, f"{base}-{quote}", f"{base}-{quote}", base, quote)


def _equity(symbol: str, dukascopy_code: str | None = None) -> MarketInstrument:
    # Dukascopy stock CFDs are priced in thousandths (divisor 1000).
    divisor = 1000.0 if dukascopy_code else None
    return MarketInstrument(symbol, "equity", "equity", divisor, dukascopy_code, symbol, None, "USD")


# Divisors from Dukascopy's instrument metadata (10 ** priceScale), see ../shared/fixtures/SPECS.md §1.4.
_INSTRUMENTS: tuple[MarketInstrument, ...] = (
    *(_fx(s, 100_000.0) for s in ("EURUSD", "GBPUSD", "USDCHF", "AUDUSD", "NZDUSD", "USDCAD", "EURGBP",
                                   "EURCHF", "EURNOK", "USDTRY", "USDMXN")),
    *(_fx(s, 1_000.0) for s in ("USDJPY", "EURJPY", "GBPJPY", "AUDJPY", "CHFJPY", "USDHUF")),
    _fx("USDCZK", 10_000.0),
    MarketInstrument("XAUUSD", "metal", "fx", 1_000.0, "XAU-USD", "GC=F", "XAU", "USD"),
    MarketInstrument("XAGUSD", "metal", "fx", 1_000.0, "XAG-USD", "SI=F", "XAG", "USD"),
    MarketInstrument("USA500IDXUSD", "index", "equity", 1_000.0, "USA500.IDX-USD", "^GSPC", None, "USD"),
    *(_crypto(s) for s in ("BTCUSD", "ETHUSD", "LTCUSD")),
    _equity("AAPL", "AAPL.US-USD"),
    _equity("TSLA", "TSLA.US-USD"),
    _equity("MSFT", "MSFT.US-USD"),
    _equity("IBM"),
    MarketInstrument("WSU.DE", "equity", "equity", yahoo_symbol="WSU.DE", quote="EUR"),
    MarketInstrument("GC=F", "commodity", "equity", yahoo_symbol="GC=F", quote="USD"),
)

INSTRUMENTS: dict[str, MarketInstrument] = {i.symbol: i for i in _INSTRUMENTS}


def instrument(symbol: str) -> MarketInstrument:
    """The instrument called ``symbol`` (case-insensitive); ValueError naming the known ones if absent."""
    key = symbol.upper().replace("/", "").replace("-", "") if "." not in symbol and "=" not in symbol else symbol
    try:
        return INSTRUMENTS[key]
    except KeyError:
        raise ValueError(f"unknown instrument {symbol!r}; known: {', '.join(sorted(INSTRUMENTS))}") from None


def dukascopy_divisor(symbol: str) -> float:
    """Points per unit of price for ``symbol`` on Dukascopy; ValueError if it has none."""
    divisor = instrument(symbol).dukascopy_divisor
    if divisor is None:
        raise ValueError(f"{symbol} is not available from Dukascopy")
    return divisor
