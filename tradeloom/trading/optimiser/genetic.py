"""A genetic algorithm over a strategy's parameters or, for ``rules``, over the rules themselves.

Deterministic for a seed: every random choice comes from one ``numpy.random.Generator``.
Each generation keeps ``elite`` best candidates, then fills the population with children
of tournament-selected parents (crossover, then mutation). Every candidate records its
lineage: generation, parents and the operation that made it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tradeloom.trading.optimiser.rules import RULE_KINDS, THRESHOLD, TWO_PERIODS, RuleParams
from tradeloom.trading.optimiser.space import Dimension

RULE_PERIOD = (2, 60)
RULE_SLOW = (3, 200)
RULE_THRESHOLD = (10.0, 90.0)
MAX_TRIES = 50


@dataclass(frozen=True)
class Candidate:
    """A strategy to evaluate, with its lineage."""

    id: str
    strategy: str  # the base strategy: a registry name or "rules"
    params: dict[str, Any]
    generation: int
    parents: tuple[str, ...] = ()
    mutation: str = "random"

    def key(self) -> str:
        """The genome as canonical JSON: two candidates with equal keys are the same strategy."""
        return json.dumps({"strategy": self.strategy, "params": self.params}, sort_keys=True, default=str)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {"id": self.id, "strategy": self.strategy, "params": self.params, "generation": self.generation,
                "parents": list(self.parents), "mutation": self.mutation}


@dataclass
class GeneticSearch:
    """Evolves candidates of ``strategy``; with ``strategy == "rules"`` the rules evolve, else the ``dims``."""

    strategy: str
    dims: tuple[Dimension, ...]
    params_model: Any
    population: int = 12
    seed: int = 0
    elite: int = 2
    tournament: int = 3
    crossover_rate: float = 0.7
    fixed: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.population < 2:
            raise ValueError(f"population must be at least 2, got {self.population}")
        if not 0 <= self.elite < self.population:
            raise ValueError(f"elite must be in [0, population), got {self.elite}")
        if self.tournament < 1:
            raise ValueError(f"tournament size must be at least 1, got {self.tournament}")
        if self.strategy != "rules" and not self.dims:
            raise ValueError(f"strategy {self.strategy!r} has no searchable parameters")
        self.rng = np.random.default_rng(self.seed)

    @property
    def rules(self) -> bool:
        """True when the rules themselves evolve."""
        return self.strategy == "rules"

    # -- validity --------------------------------------------------------------------------

    def _valid(self, params: dict[str, Any]) -> bool:
        try:
            self.params_model.model_validate(params)
        except ValueError:
            return False
        return True

    def _candidate(self, generation: int, index: int, params: dict[str, Any], parents: tuple[str, ...],
                   mutation: str) -> Candidate:
        return Candidate(f"g{generation}-{index}", self.strategy, params, generation, parents, mutation)

    # -- random genomes ----------------------------------------------------------------------

    def _random_value(self, dim: Dimension) -> Any:
        if dim.kind == "bool":
            return bool(self.rng.integers(0, 2))
        if dim.kind == "int":
            return int(self.rng.integers(int(dim.low), int(dim.high) + 1))
        return round(float(self.rng.uniform(dim.low, dim.high)), 4)

    def _random_rule(self) -> dict[str, Any]:
        kind = str(self.rng.choice(RULE_KINDS))
        period = int(self.rng.integers(RULE_PERIOD[0], RULE_PERIOD[1] + 1))
        rule: dict[str, Any] = {"kind": kind, "period": period}
        if kind in TWO_PERIODS:
            rule["period2"] = int(self.rng.integers(max(period + 1, RULE_SLOW[0]), RULE_SLOW[1] + 1))
        if kind in THRESHOLD:
            rule["threshold"] = round(float(self.rng.uniform(*RULE_THRESHOLD)), 1)
        return rule

    def _random_params(self) -> dict[str, Any]:
        for _ in range(MAX_TRIES):
            if self.rules:
                entries = [self._random_rule() for _ in range(int(self.rng.integers(1, 3)))]
                params = {"entry": entries, "exit": [self._random_rule()]}
            else:
                params = {**self.fixed, **{d.name: self._random_value(d) for d in self.dims}}
            if self._valid(params):
                return params
        raise ValueError(f"could not draw valid parameters for {self.strategy!r} in {MAX_TRIES} tries; widen the ranges")

    def initial(self) -> list[Candidate]:
        """Generation 0: the strategy's defaults first, then random candidates."""
        defaults = RuleParams().model_dump() if self.rules else {**self.fixed, **{
            d.name: d.clip(self.params_model.model_fields[d.name].default) for d in self.dims}}
        first = [defaults] if self._valid(defaults) else []
        params = first + [self._random_params() for _ in range(self.population - len(first))]
        return [self._candidate(0, i, p, (), "default" if i < len(first) else "random") for i, p in enumerate(params)]

    # -- variation -------------------------------------------------------------------------------

    def _mutate_params(self, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
        dim = self.dims[int(self.rng.integers(0, len(self.dims)))]
        old = params[dim.name]
        if dim.kind == "bool":
            new: Any = not old
        else:
            step = float(self.rng.normal(0.0, max((dim.high - dim.low) * 0.15, 1e-9)))
            new = dim.clip(old + step)
            if dim.kind == "int" and new == old:
                new = dim.clip(old + (1 if step >= 0 else -1))
            if dim.kind == "float":
                new = round(float(new), 4)
        return {**params, dim.name: new}, f"mutate {dim.name} {old}->{new}"

    def _mutate_rules(self, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
        entry, exit_ = [dict(r) for r in params["entry"]], [dict(r) for r in params["exit"]]
        operations = ["tweak", "replace_entry", "replace_exit"]
        operations += ["add_entry"] if len(entry) < 3 else []
        operations += ["drop_entry"] if len(entry) > 1 else []
        operations += ["add_exit"] if len(exit_) < 2 else []
        operations += ["drop_exit"] if len(exit_) > 1 else []
        op = str(self.rng.choice(operations))
        if op == "tweak":
            side = entry if self.rng.random() < 0.5 else exit_
            i = int(self.rng.integers(0, len(side)))
            rule = side[i]
            if rule["kind"] in THRESHOLD and self.rng.random() < 0.5:
                old = rule.get("threshold", 50.0)
                rule["threshold"] = round(min(max(old + float(self.rng.normal(0, 8)), RULE_THRESHOLD[0]), RULE_THRESHOLD[1]), 1)
                return {"entry": entry, "exit": exit_}, f"tweak {rule['kind']} threshold {old}->{rule['threshold']}"
            old = rule.get("period", 10)
            rule["period"] = int(min(max(old + int(self.rng.integers(-5, 6)) or 1, RULE_PERIOD[0]), RULE_PERIOD[1]))
            return {"entry": entry, "exit": exit_}, f"tweak {rule['kind']} period {old}->{rule['period']}"
        if op in ("replace_entry", "replace_exit"):
            side = entry if op == "replace_entry" else exit_
            i = int(self.rng.integers(0, len(side)))
            old_kind, side[i] = side[i]["kind"], self._random_rule()
            return {"entry": entry, "exit": exit_}, f"{op} {old_kind}->{side[i]['kind']}"
        if op in ("add_entry", "add_exit"):
            side = entry if op == "add_entry" else exit_
            side.append(self._random_rule())
            return {"entry": entry, "exit": exit_}, f"{op} {side[-1]['kind']}"
        side = entry if op == "drop_entry" else exit_
        dropped = side.pop(int(self.rng.integers(0, len(side))))
        return {"entry": entry, "exit": exit_}, f"{op} {dropped['kind']}"

    def _crossover(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        if self.rules:
            return {"entry": a["entry"], "exit": b["exit"]} if self.rng.random() < 0.5 else {"entry": b["entry"], "exit": a["exit"]}
        return {**a, **{d.name: (a if self.rng.random() < 0.5 else b)[d.name] for d in self.dims}}

    def _select(self, scored: list[tuple[Candidate, float]]) -> Candidate:
        picks = self.rng.integers(0, len(scored), size=min(self.tournament, len(scored)))
        return max((scored[int(i)] for i in picks), key=lambda pair: _rank(pair[1]))[0]

    def next_generation(self, scored: list[tuple[Candidate, float]], generation: int) -> list[Candidate]:
        """Generation ``generation`` from the scored previous one: elites kept, the rest bred."""
        if not scored:
            raise ValueError("cannot breed from an empty generation")
        ranked = sorted(scored, key=lambda pair: _rank(pair[1]), reverse=True)
        children = [self._candidate(generation, i, dict(c.params), (c.id,), "elite")
                    for i, (c, _) in enumerate(ranked[: self.elite])]
        while len(children) < self.population:
            for _ in range(MAX_TRIES):
                mother = self._select(ranked)
                if self.rng.random() < self.crossover_rate:
                    father = self._select(ranked)
                    parents = (mother.id,) if father is mother else (mother.id, father.id)
                    params, how = self._crossover(mother.params, father.params), "crossover"
                else:
                    params, parents, how = dict(mother.params), (mother.id,), "copy"
                params, change = self._mutate_rules(params) if self.rules else self._mutate_params(params)
                if self._valid(params):
                    children.append(self._candidate(generation, len(children), params, parents, f"{how}; {change}"))
                    break
            else:
                children.append(self._candidate(generation, len(children), self._random_params(), (), "random"))
        return children


def _rank(fitness: float) -> float:
    return fitness if not math.isnan(fitness) else -math.inf
