"""Strategies by name, as the backtester, the optimiser and the live loop ask for them."""

from __future__ import annotations

from typing import Any

from tradeloom.trading.strategies.base import Strategy
from tradeloom.trading.strategies.donchian_breakout import DonchianBreakout
from tradeloom.trading.strategies.macd import Macd
from tradeloom.trading.strategies.rsi_reversion import RsiReversion
from tradeloom.trading.strategies.sma_cross import SmaCross

STRATEGIES: dict[str, type[Strategy]] = {cls.name: cls for cls in (SmaCross, RsiReversion, DonchianBreakout, Macd)}


def strategy_names() -> list[str]:
    """The names of the known strategies, sorted."""
    return sorted(STRATEGIES)


def strategy_by_name(name: str, params: dict[str, Any] | None = None) -> Strategy:
    """A strategy by its registry name with validated ``params``; ValueError naming the known ones."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known strategies: {', '.join(strategy_names())}") from None
    return cls(params)
