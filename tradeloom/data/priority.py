"""Source priority with fallback: which sources to try, in order, for an instrument and timeframe."""

from __future__ import annotations

from typing import Mapping, Sequence

DEFAULT_ORDER: tuple[str, ...] = ("dukascopy", "yahoo", "alphavantage")


def sources_for(table: Mapping[str, Sequence[str]], symbol: str, timeframe: str) -> list[str]:
    """The sources to try for ``symbol`` at ``timeframe``: the most specific key of ``table`` wins.

    Keys are ``"SYMBOL:timeframe"``, ``"SYMBOL"`` or ``"*"``; with none matching, the default order.
    """
    for key in (f"{symbol}:{timeframe}", symbol, "*"):
        if key in table:
            return list(table[key])
    return list(DEFAULT_ORDER)
