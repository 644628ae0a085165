"""One backtest set up from plain values: the venue's fees, the position policy, the cash.

A ``BacktestRecipe`` is small, frozen and picklable, so a Dask worker can rebuild the same
backtest the CLI or a flow asked for. The policy is built fresh for every run (policies
keep per-position state). ``fixed`` is the stop and take-profit of the trading core;
``protection`` is the full risk side (breakeven, trailing ladder, scale-outs, conditional
exit, sizing, risk gate and circuit breakers) as configured by a ``RiskConfig``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from tradeloom.trading.backtest import BacktestResult, run_backtest
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.metrics import Metrics, compute_metrics
from tradeloom.trading.policy import FixedStopTakeProfit
from tradeloom.trading.risk.assembly import ReplayBarWindow, RiskSide, risk_side
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.kill_switch import KillSwitch
from tradeloom.trading.simulated import VenueConfig
from tradeloom.trading.simulated.fees import FeeSchedule
from tradeloom.trading.strategies.base import Bars, Strategy

PolicyName = Literal["fixed", "protection"]
# Exit kinds always reported (0 when none happened); scale-out levels are added per configured level.
EXIT_KINDS = ("stop", "take_profit", "breakeven", "trailing", "conditional", "signal", "breaker")


def _decimal(value: Decimal | str | int | float | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


@dataclass(frozen=True)
class BacktestRecipe:
    """How to run a backtest: instrument, cash, fees (percent per side), policy and its stop/target (percent).

    The take-profit applies to the fixed policy only; the protection policy takes profits by its scale-out levels.
    """

    instrument: Instrument
    cash: Decimal = Decimal(100_000)
    size: Decimal | None = None  # fixed quantity per entry; None: 1 (fixed policy) or risk sizing (protection)
    stop_pct: Decimal | None = Decimal(2)
    take_profit_pct: Decimal | None = Decimal(4)
    fee_pct: Decimal = Decimal("0.1")
    policy: PolicyName = "fixed"
    risk: RiskConfig | None = None

    def __post_init__(self) -> None:
        for name in ("cash", "size", "stop_pct", "take_profit_pct", "fee_pct"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))
        if self.cash is None or self.cash <= 0:
            raise ValueError(f"cash must be positive, got {self.cash}")
        if self.size is not None and self.size <= 0:
            raise ValueError(f"size must be positive, got {self.size}")
        if self.fee_pct is None or not 0 <= self.fee_pct < 100:
            raise ValueError(f"fee_pct must be in [0, 100), got {self.fee_pct}")
        if self.policy not in ("fixed", "protection"):
            raise ValueError(f"policy must be 'fixed' or 'protection', got {self.policy!r}")
        if self.policy == "protection":
            if self.risk is None:
                raise ValueError("the protection policy needs a RiskConfig (from the risk settings)")
            if self.stop_pct is None:
                raise ValueError("the protection policy needs a base stop percent (stop_pct)")

    @property
    def fee_rate(self) -> Decimal:
        """The fee as a fraction of notional."""
        return self.fee_pct / 100

    def parameters(self) -> dict[str, Any]:
        """The recipe as JSON-ready values (recorded with each run)."""
        return {
            "symbol": self.instrument.symbol, "cash": str(self.cash), "size": None if self.size is None else str(self.size),
            "stop_pct": None if self.stop_pct is None else str(self.stop_pct),
            "take_profit_pct": None if self.take_profit_pct is None or self.policy != "fixed" else str(self.take_profit_pct),
            "fee_pct": str(self.fee_pct), "policy": self.policy,
        }

    def exit_kinds(self) -> tuple[str, ...]:
        """Every exit reason this recipe can produce, for counting exits with zeros shown."""
        levels: tuple[str, ...] = ()
        if self.policy == "protection" and self.risk is not None and self.risk.protection.scaled_exits_enabled:
            levels = tuple(level.label for level in self.risk.protection.scale_levels)
        return EXIT_KINDS + levels


@dataclass(frozen=True, eq=False)
class RecipeRun:
    """A finished backtest, its risk side (protection only) and its metrics."""

    result: BacktestResult
    metrics: Metrics
    risk: RiskSide | None

    def exits_by_reason(self, kinds: tuple[str, ...]) -> dict[str, int]:
        """Exits counted by kind ("conditional: rsi, volume" counts as conditional); every kind in ``kinds`` shown."""
        counts: Counter[str] = Counter({kind: 0 for kind in kinds})
        for reason, count in self.result.exits_by_reason.items():
            counts[reason.split(":")[0].strip()] += count
        return dict(counts)


def run_recipe(strategy: Strategy, bars: Bars, recipe: BacktestRecipe, kill_switch: KillSwitch | None = None) -> RecipeRun:
    """Backtest ``strategy`` over ``bars`` as ``recipe`` says; metrics over the whole run."""
    clock = BacktestClock(int(bars.ts[0])) if len(bars) else BacktestClock()
    venue = VenueConfig(fees=FeeSchedule(recipe.fee_rate, recipe.fee_rate))
    side: RiskSide | None = None
    if recipe.policy == "fixed":
        policy: Any = FixedStopTakeProfit(recipe.stop_pct, recipe.take_profit_pct, recipe.size or Decimal(1))
        gate = None
    else:
        assert recipe.risk is not None and recipe.stop_pct is not None  # checked by the recipe
        window = ReplayBarWindow(recipe.instrument.symbol, bars, clock)
        side = risk_side(recipe.risk, recipe.stop_pct, clock, fee_rate=recipe.fee_rate, kill_switch=kill_switch,
                         bars=window, fixed_quantity=recipe.size)
        policy, gate = side.policy, side.gate
    result = run_backtest(strategy, bars, recipe.instrument, venue, policy, recipe.cash, clock, gate=gate,
                          planner=side.planner if side is not None else None)
    return RecipeRun(result, metrics_of(result), side)


def metrics_of(result: BacktestResult, start: int = 0, stop: int | None = None) -> Metrics:
    """Metrics of bars [start, stop) of a result: the equity there and the trades that closed there."""
    stop = len(result.ts) if stop is None else stop
    if not 0 <= start < stop <= len(result.ts):
        raise ValueError(f"bar window [{start}, {stop}) is outside the {len(result.ts)} bars")
    ts = result.ts[start:stop]
    whole = start == 0 and stop == len(result.ts)
    first = int(ts[0]) if start else None  # a fill stamped inside bar t belongs to bar t
    end = int(result.ts[stop]) if stop < len(result.ts) else None
    trades = [t for t in result.trades if (first is None or t.exit_ts >= first) and (end is None or t.exit_ts < end)]
    fees = result.fees if whole else sum((t.fees for t in trades), Decimal(0))
    return compute_metrics(ts, result.equity[start:stop], trades, in_position=np.asarray(result.position[start:stop]) != 0,
                           fees_paid=fees)
