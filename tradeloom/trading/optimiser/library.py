"""The strategy library: the best evolved strategies as JSON files, with their lineage, loaded by name.

One file per strategy, ``<dir>/<name>.json``. The backtester and the live loop resolve a
``--strategy`` name with ``resolve``: a base strategy (the registry's or ``rules``) by its
name, else a saved strategy from the library, its stored parameters overridden by any given.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tradeloom.trading.optimiser.evaluation import BASE_STRATEGIES, build_strategy
from tradeloom.trading.strategies.base import Strategy

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
FORMAT = 1


@dataclass(frozen=True)
class SavedStrategy:
    """A strategy worth keeping: its base, parameters, how it scored, on what data, and where it came from."""

    name: str
    strategy: str
    params: dict[str, Any]
    metric: str
    fitness: float | None
    symbol: str
    timeframe: str
    data_start: str  # ISO UTC
    data_end: str
    created_at: str
    code_version: str
    lineage: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.strategy not in BASE_STRATEGIES:
            raise ValueError(f"saved strategy {self.name}: unknown base {self.strategy!r}; known: {', '.join(BASE_STRATEGIES)}")

    def build(self, overrides: dict[str, Any] | None = None) -> Strategy:
        """The strategy with the saved parameters (``overrides`` win)."""
        return build_strategy(self.strategy, {**self.params, **(overrides or {})})


def check_name(name: str) -> str:
    """``name`` if it can name a library entry (letters, digits, _ . -), else ValueError."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"strategy name {name!r} must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit")
    if name in BASE_STRATEGIES:
        raise ValueError(f"strategy name {name!r} is a base strategy's name; choose another")
    return name


class StrategyLibrary:
    """Saved strategies under ``directory``."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path(self, name: str) -> Path:
        """Where ``name`` is stored."""
        return self.directory / f"{check_name(name)}.json"

    def save(self, saved: SavedStrategy) -> Path:
        """Write ``saved`` (atomically; an existing entry of that name is replaced)."""
        target = self.path(saved.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(json.dumps({"format": FORMAT, **asdict(saved)}, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, target)
        return target

    def load(self, name: str) -> SavedStrategy:
        """The saved strategy ``name``; ValueError naming the saved ones if there is none."""
        path = self.path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = ", ".join(self.names()) or "none"
            raise ValueError(f"no saved strategy {name!r} in {self.directory} (saved: {known})") from None
        except ValueError as error:
            raise ValueError(f"saved strategy file {path} is not valid JSON: {error}") from error
        if data.pop("format", None) != FORMAT:
            raise ValueError(f"saved strategy file {path} has an unknown format")
        try:
            return SavedStrategy(**data)
        except TypeError as error:
            raise ValueError(f"saved strategy file {path} is malformed: {error}") from error

    def names(self) -> list[str]:
        """The saved strategies' names, sorted."""
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json") if NAME.match(p.stem))

    def resolve(self, name: str, params: dict[str, Any] | None = None) -> tuple[Strategy, str, dict[str, Any]]:
        """(strategy, base name, effective parameters) for a base strategy's or a saved strategy's ``name``."""
        if name in BASE_STRATEGIES:
            strategy = build_strategy(name, params or {})
            return strategy, name, strategy.params.model_dump(mode="json")
        saved = self.load(name)
        strategy = saved.build(params)
        return strategy, saved.strategy, strategy.params.model_dump(mode="json")
