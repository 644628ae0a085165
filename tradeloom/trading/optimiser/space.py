"""Parameter spaces read from a strategy's typed ``Params``: each field's type, default and bounds.

A strategy's Params declare wide validity bounds (``slow`` up to 50,000 bars), far wider
than a useful search. A dimension therefore searches ``[default / 5, default * 5]`` clipped
to the declared bounds unless the caller gives a range; booleans search both values.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Iterator

import annotated_types
from pydantic import BaseModel

SPREAD = 5.0  # default search range: default / SPREAD .. default * SPREAD


@dataclass(frozen=True)
class Dimension:
    """One searchable parameter: ``kind`` int, float or bool, searched within [low, high]."""

    name: str
    kind: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if self.kind not in ("int", "float", "bool"):
            raise ValueError(f"parameter {self.name}: kind must be int, float or bool, got {self.kind!r}")
        if not self.low <= self.high:
            raise ValueError(f"parameter {self.name}: range low {self.low} is above high {self.high}")

    def clip(self, value: float) -> int | float | bool:
        """``value`` brought into range and to the dimension's type."""
        if self.kind == "bool":
            return bool(value)
        bounded = min(max(value, self.low), self.high)
        return int(round(bounded)) if self.kind == "int" else float(bounded)


def _bounds(field: Any) -> tuple[float | None, float | None]:
    low = high = None
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            low = float(rule.ge)
        elif isinstance(rule, annotated_types.Gt):
            low = float(rule.gt)
        elif isinstance(rule, annotated_types.Le):
            high = float(rule.le)
        elif isinstance(rule, annotated_types.Lt):
            high = float(rule.lt)
    return low, high


def space_for(params: type[BaseModel], ranges: dict[str, tuple[float, float]] | None = None,
              fixed: dict[str, Any] | None = None) -> tuple[Dimension, ...]:
    """The dimensions of ``params``; ``ranges`` narrow or set a field's range, ``fixed`` fields are left out."""
    ranges, fixed = dict(ranges or {}), dict(fixed or {})
    unknown = sorted((set(ranges) | set(fixed)) - set(params.model_fields))
    if unknown:
        raise ValueError(f"{params.__name__} has no parameter {', '.join(unknown)}; it has {', '.join(params.model_fields)}")
    dims = []
    for name, field in params.model_fields.items():
        if name in fixed:
            continue
        kind = {int: "int", float: "float", bool: "bool"}.get(field.annotation)  # type: ignore[arg-type]
        if kind is None:
            continue  # not searchable (tuples, strings)
        if kind == "bool":
            dims.append(Dimension(name, "bool", 0, 1))
            continue
        low, high = _bounds(field)
        if name in ranges:
            lo, hi = (float(v) for v in ranges.pop(name))
        else:
            default = float(field.default)
            lo, hi = default / SPREAD, default * SPREAD
        lo = lo if low is None else max(lo, low)
        hi = hi if high is None else min(hi, high)
        if kind == "int":
            lo, hi = math.ceil(lo), math.floor(hi)
        dims.append(Dimension(name, kind, lo, hi))
    return tuple(dims)


def parse_grid(specs: list[str]) -> dict[str, list[Any]]:
    """``["fast=5,10", "slow=20:60:20"]`` -> {"fast": [5, 10], "slow": [20, 40, 60]}; values are numbers or true/false."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise ValueError(f"grid entry {spec!r} must look like NAME=V1,V2 or NAME=START:STOP:STEP")
        if values.count(":") == 2:
            start, stop, step = (parse_value(v) for v in values.split(":"))
            if not isinstance(step, (int, float)) or step <= 0:
                raise ValueError(f"grid entry {spec!r}: step must be a positive number")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            grid[name.strip()] = [start + i * step for i in range(max(count, 0))]
        else:
            grid[name.strip()] = [parse_value(v) for v in values.split(",")]
    return grid


def parse_value(text: str) -> Any:
    """A parameter value from text: int, float, true/false, or the text itself."""
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def grid_points(params: type[BaseModel], grid: dict[str, list[Any]], fixed: dict[str, Any] | None = None
                ) -> Iterator[dict[str, Any]]:
    """Every valid combination of ``grid`` (with ``fixed`` values), in order; invalid ones (fast >= slow) skipped."""
    unknown = sorted(set(grid) - set(params.model_fields))
    if unknown:
        raise ValueError(f"{params.__name__} has no parameter {', '.join(unknown)}; it has {', '.join(params.model_fields)}")
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        point = {**(fixed or {}), **dict(zip(names, values))}
        try:
            params.model_validate(point)
        except ValueError:
            continue
        yield point
