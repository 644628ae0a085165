"""Running a search: a grid or a genetic algorithm, with the evaluation of each generation injected.

``run_search`` is pure: ``evaluate_batch`` gets a generation's new candidates and returns
their ``Evaluation`` in the same order (a flow maps them as Dask tasks; a test calls
``evaluate`` directly). A genome already scored is not evaluated again. The result keeps
every candidate, so the lineage of the best can be traced back to generation 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from tradeloom.trading.optimiser.evaluation import Evaluation
from tradeloom.trading.optimiser.genetic import Candidate, GeneticSearch

EvaluateBatch = Callable[[Sequence[Candidate]], Sequence[Evaluation]]


@dataclass
class SearchResult:
    """Every candidate and its evaluation, in the order they were made."""

    candidates: dict[str, Candidate] = field(default_factory=dict)
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    generations: list[list[str]] = field(default_factory=list)

    def ranked(self) -> list[tuple[Candidate, Evaluation]]:
        """Candidates from best to worst fitness (ties: the earlier made first); failed ones last."""
        order = {cid: i for i, cid in enumerate(self.candidates)}
        pairs = [(self.candidates[cid], ev) for cid, ev in self.evaluations.items()]
        return sorted(pairs, key=lambda pair: (-_score(pair[1].fitness), order[pair[0].id]))

    def best(self, count: int = 1) -> list[tuple[Candidate, Evaluation]]:
        """The ``count`` best distinct strategies."""
        seen: set[str] = set()
        out = []
        for candidate, evaluation in self.ranked():
            if candidate.key() in seen or not math.isfinite(evaluation.fitness):
                continue
            seen.add(candidate.key())
            out.append((candidate, evaluation))
            if len(out) == count:
                break
        return out

    def walk_forward(self) -> list[dict[str, Any]]:
        """Per fold, the candidate best in sample and how it then did out of sample (the honest estimate).

        Fitness ranks candidates by their out-of-sample mean; this answers the walk-forward question
        instead: had each fold's in-sample winner been traded in the following window, what would it score?
        """
        scored = [(c, ev) for c, ev in self.ranked() if ev.in_sample and math.isfinite(ev.fitness)]
        if not scored:
            return []
        folds = len(scored[0][1].in_sample)
        rows = []
        for fold in range(folds):
            candidate, ev = max(scored, key=lambda pair: pair[1].in_sample[fold])  # ties: the better ranked first
            rows.append({"fold": fold, "chosen": candidate.id, "params": candidate.params,
                         "in_sample": ev.in_sample[fold], "out_of_sample": ev.out_of_sample[fold]})
        return rows

    def lineage(self, candidate_id: str) -> list[dict[str, Any]]:
        """The candidate and all its ancestors, oldest generation first, each with its fitness."""
        found: dict[str, Candidate] = {}
        stack = [candidate_id]
        while stack:
            cid = stack.pop()
            if cid in found or cid not in self.candidates:
                continue
            found[cid] = self.candidates[cid]
            stack.extend(found[cid].parents)
        rows = []
        for candidate in sorted(found.values(), key=lambda c: (c.generation, list(self.candidates).index(c.id))):
            evaluation = self.evaluations.get(candidate.id)
            rows.append({**candidate.as_dict(), "fitness": None if evaluation is None else _json_number(evaluation.fitness)})
        return rows


def _score(fitness: float) -> float:
    return fitness if not math.isnan(fitness) else -math.inf


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _evaluate_generation(result: SearchResult, generation: list[Candidate], evaluate_batch: EvaluateBatch) -> None:
    known = {result.candidates[cid].key(): ev for cid, ev in result.evaluations.items()}
    fresh = [c for c in generation if c.key() not in known]
    unique: dict[str, Candidate] = {}
    for candidate in fresh:
        unique.setdefault(candidate.key(), candidate)
    scored = list(evaluate_batch(list(unique.values())))
    if len(scored) != len(unique):
        raise ValueError(f"the evaluator returned {len(scored)} evaluations for {len(unique)} candidates")
    known.update({c.key(): ev for c, ev in zip(unique.values(), scored)})
    for candidate in generation:
        result.candidates[candidate.id] = candidate
        ev = known[candidate.key()]
        result.evaluations[candidate.id] = ev if ev.candidate_id == candidate.id else _relabel(ev, candidate.id)
    result.generations.append([c.id for c in generation])


def _relabel(evaluation: Evaluation, candidate_id: str) -> Evaluation:
    from dataclasses import replace

    return replace(evaluation, candidate_id=candidate_id)


def run_grid(strategy: str, points: Sequence[dict[str, Any]], evaluate_batch: EvaluateBatch) -> SearchResult:
    """Evaluate every grid point (one generation)."""
    if not points:
        raise ValueError("the grid holds no valid parameter combination")
    result = SearchResult()
    generation = [Candidate(f"grid-{i}", strategy, dict(p), 0, (), "grid") for i, p in enumerate(points)]
    _evaluate_generation(result, generation, evaluate_batch)
    return result


def run_genetic(search: GeneticSearch, generations: int, evaluate_batch: EvaluateBatch) -> SearchResult:
    """Evolve ``generations`` generations after the initial one (0 evaluates the initial population only)."""
    if generations < 0:
        raise ValueError(f"generations must be >= 0, got {generations}")
    result = SearchResult()
    population = search.initial()
    _evaluate_generation(result, population, evaluate_batch)
    for number in range(1, generations + 1):
        scored = [(c, result.evaluations[c.id].fitness) for c in population]
        population = search.next_generation(scored, number)
        _evaluate_generation(result, population, evaluate_batch)
    return result
