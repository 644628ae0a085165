"""Trading strategies: the interface, the indicators they use, the baseline strategies and the registry."""

from tradeloom.trading.strategies.base import Bars, Decision, PositionSide, Signals, Strategy
from tradeloom.trading.strategies.registry import STRATEGIES, strategy_by_name, strategy_names

__all__ = ["Bars", "Decision", "PositionSide", "Signals", "Strategy", "STRATEGIES", "strategy_by_name", "strategy_names"]
