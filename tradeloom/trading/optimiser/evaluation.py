"""Scoring one candidate: one backtest over all bars, metrics on each walk-forward window, fitness out of sample.

The strategy's signals at bar t depend on bars up to t only, so one run over the whole
range and metrics cut per window equal separate runs per window, except that a position
open at a window's start is carried in (it is in the market, as a live strategy would be).
Fitness is the mean of the chosen metric over the out-of-sample windows. An undefined ratio
(no trades, no losses, a flat curve) counts as 0; ``max_drawdown`` is negated so that
higher is always better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tradeloom.trading.metrics import Metrics
from tradeloom.trading.optimiser.recipe import BacktestRecipe, metrics_of, run_recipe
from tradeloom.trading.optimiser.rules import RuleStrategy
from tradeloom.trading.optimiser.walk_forward import Split
from tradeloom.trading.strategies.base import Bars, Strategy
from tradeloom.trading.strategies.registry import STRATEGIES, strategy_by_name

# metric name -> +1 (higher is better) or -1 (lower is better)
FITNESS_METRICS: dict[str, int] = {
    "sharpe": 1, "sortino": 1, "calmar": 1, "total_return": 1, "cagr": 1, "profit_factor": 1,
    "win_rate": 1, "expectancy": 1, "max_drawdown": -1,
}
BASE_STRATEGIES = (*sorted(STRATEGIES), RuleStrategy.name)


def build_strategy(base: str, params: dict[str, Any] | None = None) -> Strategy:
    """A strategy from a base name (a registry strategy or ``rules``) and its parameters."""
    if base == RuleStrategy.name:
        return RuleStrategy(params)
    return strategy_by_name(base, params)


def strategy_params_model(base: str) -> Any:
    """The ``Params`` model of a base strategy; ValueError naming the known ones."""
    if base == RuleStrategy.name:
        return RuleStrategy.Params
    if base not in STRATEGIES:
        raise ValueError(f"unknown strategy {base!r}; known strategies: {', '.join(BASE_STRATEGIES)}")
    return STRATEGIES[base].Params


def metric_value(metrics: Metrics, metric: str) -> float:
    """``metric`` of ``metrics`` oriented so higher is better; undefined (None) counts as 0."""
    if metric not in FITNESS_METRICS:
        raise ValueError(f"unknown fitness metric {metric!r}; choose one of {', '.join(FITNESS_METRICS)}")
    value = getattr(metrics, metric)
    if value is None:
        return 0.0
    value = float(value)
    return FITNESS_METRICS[metric] * value if math.isfinite(value) else 0.0


@dataclass(frozen=True)
class Evaluation:
    """How a candidate scored: fitness (mean out-of-sample metric), per-fold values, and whole-run figures."""

    candidate_id: str
    fitness: float
    metric: str
    in_sample: tuple[float, ...]
    out_of_sample: tuple[float, ...]
    trades: int
    final_equity: str
    error: str = ""
    whole_run: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "candidate_id": self.candidate_id, "fitness": self.fitness, "metric": self.metric,
            "in_sample": list(self.in_sample), "out_of_sample": list(self.out_of_sample), "trades": self.trades,
            "final_equity": self.final_equity, "error": self.error, "whole_run": self.whole_run,
        }


def evaluate(candidate_id: str, base: str, params: dict[str, Any], bars: Bars, recipe: BacktestRecipe,
             splits: tuple[Split, ...], metric: str) -> Evaluation:
    """Backtest one candidate and score it on ``splits``; a candidate whose parameters are invalid scores -inf."""
    if metric not in FITNESS_METRICS:
        raise ValueError(f"unknown fitness metric {metric!r}; choose one of {', '.join(FITNESS_METRICS)}")
    if not splits or splits[-1].out_end > len(bars):
        raise ValueError(f"walk-forward splits end past the {len(bars)} bars")
    try:
        strategy = build_strategy(base, params)
    except ValueError as error:
        return Evaluation(candidate_id, -math.inf, metric, (), (), 0, "", f"invalid parameters: {error}")
    run = run_recipe(strategy, bars, recipe)
    in_sample = tuple(metric_value(metrics_of(run.result, s.in_start, s.in_end), metric) for s in splits)
    out_of_sample = tuple(metric_value(metrics_of(run.result, s.out_start, s.out_end), metric) for s in splits)
    return Evaluation(candidate_id, sum(out_of_sample) / len(out_of_sample), metric, in_sample, out_of_sample,
                      run.metrics.trades, str(run.result.final_equity), "", run.metrics.as_dict())
