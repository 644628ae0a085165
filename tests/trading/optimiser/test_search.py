"""Grid and genetic search: exact evaluation of the hand series, determinism for a seed, lineage, the library."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trading.optimiser.series import INSTRUMENT, hand_bars, random_walk
from tradeloom.trading.optimiser.evaluation import evaluate
from tradeloom.trading.optimiser.genetic import GeneticSearch
from tradeloom.trading.optimiser.library import SavedStrategy, StrategyLibrary
from tradeloom.trading.optimiser.recipe import BacktestRecipe, run_recipe
from tradeloom.trading.optimiser.rules import RuleParams
from tradeloom.trading.optimiser.search import run_genetic, run_grid
from tradeloom.trading.optimiser.space import space_for
from tradeloom.trading.optimiser.walk_forward import walk_forward_splits
from tradeloom.trading.strategies.registry import strategy_by_name
from tradeloom.trading.strategies.sma_cross import SmaCrossParams

RECIPE = BacktestRecipe(INSTRUMENT, cash=Decimal(10_000), fee_pct=Decimal("0.1"))


def test_the_hand_series_trades_exactly_as_computed_by_hand():
    run = run_recipe(strategy_by_name("sma_cross", {"fast": 2, "slow": 3}), hand_bars(), RECIPE)
    trades = [(t.entry_price, t.exit_price, t.pnl, t.exit_reason) for t in run.result.trades]
    assert trades == [(Decimal("101"), Decimal("102"), Decimal("0.797"), "signal"),  # 1 - 0.101 - 0.102 fees
                      (Decimal("101"), Decimal("105.04"), Decimal("3.83396"), "take_profit")]  # 4.04 - 0.10504 - 0.101
    assert run.result.final_equity == Decimal("10004.63096")
    assert run.metrics.trades == 2 and run.metrics.fees == Decimal("0.40904")
    assert run.exits_by_reason(RECIPE.exit_kinds()) == {
        "stop": 0, "take_profit": 1, "breakeven": 0, "trailing": 0, "conditional": 0, "signal": 1, "breaker": 0}


def _evaluator(bars, splits, metric="sharpe"):
    def batch(candidates):
        return [evaluate(c.id, c.strategy, c.params, bars, RECIPE, splits, metric) for c in candidates]
    return batch


def test_grid_scores_every_point_out_of_sample_and_ranks_them():
    bars = random_walk(600, seed=7)
    splits = walk_forward_splits(len(bars), 2, 0.6)
    points = [{"fast": f, "slow": s} for f in (5, 10) for s in (20, 40)]
    result = run_grid("sma_cross", points, _evaluator(bars, splits))
    assert [c.params for c in result.candidates.values()] == points
    ranked = result.ranked()
    fitness = [ev.fitness for _, ev in ranked]
    assert fitness == sorted(fitness, reverse=True)
    best, evaluation = ranked[0]
    assert evaluation.fitness == pytest.approx(sum(evaluation.out_of_sample) / 2)
    assert len(evaluation.in_sample) == len(evaluation.out_of_sample) == 2
    assert result.best(1)[0][0] is best


def test_invalid_parameters_score_minus_infinity_with_the_reason():
    splits = walk_forward_splits(600, 2, 0.6)
    evaluation = evaluate("x", "sma_cross", {"fast": 30, "slow": 20}, random_walk(600, 1), RECIPE, splits, "sharpe")
    assert evaluation.fitness == -math.inf and "fast (30) must be below slow (20)" in evaluation.error


def _genetic(seed: int, strategy: str = "sma_cross"):
    bars = random_walk(500, seed=11)
    splits = walk_forward_splits(len(bars), 2, 0.6)
    if strategy == "rules":
        search = GeneticSearch("rules", (), RuleParams, population=6, seed=seed)
    else:
        search = GeneticSearch("sma_cross", space_for(SmaCrossParams, {"fast": (2, 20), "slow": (10, 60)}),
                               SmaCrossParams, population=6, seed=seed)
    return run_genetic(search, 2, _evaluator(bars, splits, "total_return"))


def _summary(result):
    return [(c.id, c.key(), c.parents, c.mutation, result.evaluations[c.id].fitness) for c in result.candidates.values()]


@pytest.mark.parametrize("strategy", ["sma_cross", "rules"])
def test_the_genetic_search_is_deterministic_for_a_seed(strategy):
    first, again, other = _genetic(4, strategy), _genetic(4, strategy), _genetic(5, strategy)
    assert _summary(first) == _summary(again)
    assert [c.key() for c in first.candidates.values()] != [c.key() for c in other.candidates.values()]
    assert len(first.generations) == 3 and all(len(g) == 6 for g in first.generations)


def test_rules_evolve_indicators_thresholds_and_rule_counts():
    result = _genetic(4, "rules")
    kinds = {rule["kind"] for c in result.candidates.values() for rule in (*c.params["entry"], *c.params["exit"])}
    assert len(kinds) >= 4
    mutations = " ".join(c.mutation for c in result.candidates.values())
    assert any(op in mutations for op in ("replace_entry", "replace_exit", "add_entry", "add_exit", "drop_entry"))


def test_lineage_reaches_back_to_generation_0_and_survives_the_library(tmp_path):
    result = _genetic(4)
    best, evaluation = result.best(1)[0]
    lineage = result.lineage(best.id)
    ids = {row["id"] for row in lineage}
    assert best.id in ids and lineage[-1]["generation"] == best.generation
    assert lineage[0]["generation"] == 0 and [r["generation"] for r in lineage] == sorted(r["generation"] for r in lineage)
    assert all(set(row["parents"]) <= ids for row in lineage)  # every parent is in the lineage
    saved = SavedStrategy("evolved-sma", best.strategy, best.params, "total_return", evaluation.fitness, "TEST", "1h",
                          "2019-02-04T00:00:00+00:00", "2019-02-24T20:00:00+00:00", "2026-11-21T00:00:00+00:00", "0.1.0",
                          lineage, evaluation.as_dict())
    library = StrategyLibrary(tmp_path / "strategies")
    path = library.save(saved)
    assert json.loads(path.read_text())["lineage"] == lineage
    assert library.names() == ["evolved-sma"]
    assert library.load("evolved-sma") == saved
    strategy, base, params = library.resolve("evolved-sma", {"allow_short": True})
    assert base == "sma_cross" and params == {**best.params, "allow_short": True}
    assert type(strategy).__name__ == "SmaCross" and strategy.params.allow_short
    with pytest.raises(ValueError, match="no saved strategy 'missing'.*saved: evolved-sma"):
        library.load("missing")
    with pytest.raises(ValueError, match="base strategy's name"):
        library.path("sma_cross")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), fitness=st.lists(st.floats(-5, 5) | st.just(-math.inf), min_size=8, max_size=8))
def test_bred_candidates_are_valid_within_bounds_and_name_real_parents(seed, fitness):
    dims = space_for(SmaCrossParams, {"fast": (2, 20), "slow": (10, 60)})
    search = GeneticSearch("sma_cross", dims, SmaCrossParams, population=8, seed=seed)
    parents = search.initial()
    children = search.next_generation(list(zip(parents, fitness)), 1)
    ids = {p.id for p in parents}
    assert len(children) == 8 and [c.id for c in children] == [f"g1-{i}" for i in range(8)]
    for child in children:
        SmaCrossParams.model_validate(child.params)
        assert 2 <= child.params["fast"] <= 20 and 10 <= child.params["slow"] <= 60
        assert set(child.parents) <= ids and (child.parents or child.mutation == "random")
    best = max(range(8), key=lambda i: fitness[i])
    assert children[0].params == parents[best].params and children[0].mutation == "elite"  # elitism keeps the best


def test_walk_forward_picks_each_folds_in_sample_winner_and_reports_its_out_of_sample_score():
    bars = random_walk(600, seed=7)
    splits = walk_forward_splits(len(bars), 2, 0.6)
    points = [{"fast": f, "slow": s} for f in (5, 10) for s in (20, 40)]
    result = run_grid("sma_cross", points, _evaluator(bars, splits))
    rows = result.walk_forward()
    assert [row["fold"] for row in rows] == [0, 1]
    for row in rows:
        fold = row["fold"]
        evaluations = list(result.evaluations.values())
        assert row["in_sample"] == max(ev.in_sample[fold] for ev in evaluations)
        chosen = result.evaluations[row["chosen"]]
        assert (row["in_sample"], row["out_of_sample"]) == (chosen.in_sample[fold], chosen.out_of_sample[fold])
        assert row["params"] == result.candidates[row["chosen"]].params
