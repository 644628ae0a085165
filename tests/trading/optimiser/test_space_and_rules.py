"""Parameter spaces from typed Params, grids, and the rule strategy's signals (causal)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trading.optimiser.series import random_walk
from tradeloom.trading.optimiser.rules import RULE_KINDS, Rule, RuleStrategy
from tradeloom.trading.optimiser.space import Dimension, grid_points, parse_grid, space_for
from tradeloom.trading.strategies.rsi_reversion import RsiReversionParams
from tradeloom.trading.strategies.sma_cross import SmaCrossParams


def test_space_reads_types_defaults_and_bounds():
    assert space_for(SmaCrossParams) == (Dimension("fast", "int", 2, 50), Dimension("slow", "int", 10, 250),
                                         Dimension("allow_short", "bool", 0, 1))
    # a given range is clipped to the declared bounds (period >= 2); fixed fields are not searched
    assert space_for(RsiReversionParams, {"period": (1, 30)}, fixed={"allow_short": False, "upper": 70.0})[0] == \
        Dimension("period", "int", 2, 30)
    with pytest.raises(ValueError, match="has no parameter speed"):
        space_for(SmaCrossParams, {"speed": (1, 2)})


def test_grid_skips_invalid_combinations():
    grid = parse_grid(["fast=5,10,20", "slow=10:30:10"])
    assert grid == {"fast": [5, 10, 20], "slow": [10, 20, 30]}
    assert list(grid_points(SmaCrossParams, grid)) == [
        {"fast": 5, "slow": 10}, {"fast": 5, "slow": 20}, {"fast": 5, "slow": 30},
        {"fast": 10, "slow": 20}, {"fast": 10, "slow": 30}, {"fast": 20, "slow": 30}]
    with pytest.raises(ValueError, match="NAME=V1,V2"):
        parse_grid(["fast"])


def test_every_rule_kind_is_causal():
    bars = random_walk(400, seed=3)
    for kind in RULE_KINDS:
        rule = Rule(kind=kind, period=12, period2=26, threshold=45)
        full = rule.holds(bars)
        for t in (60, 150, 399):
            assert np.array_equal(rule.holds(bars.slice(t + 1)), full[: t + 1]), kind


def test_rule_strategy_enters_when_all_entry_rules_hold_and_exits_on_any_exit_rule():
    bars = random_walk(400, seed=5)
    trend = Rule(kind="close_above_sma", period=50)
    dip = Rule(kind="rsi_below", period=5, threshold=50)
    exit_ = Rule(kind="rsi_above", period=14, threshold=60)
    signals = RuleStrategy({"entry": [trend, dip], "exit": [exit_]}).signals(bars)
    both = trend.holds(bars) & dip.holds(bars)
    assert signals.entry.sum() > 0
    assert np.array_equal(signals.entry[51:] == 1, both[51:])
    assert not signals.entry[:51].any()  # warmup: the 50-bar average needs 51 bars
    assert np.array_equal(signals.exit[51:], exit_.holds(bars)[51:] & ~both[51:])
    with pytest.raises(ValueError, match="period .* must be below period2"):
        Rule(kind="sma_cross_up", period=30, period2=20)
