"""The configuration of profit protection: breakeven trigger, trailing ladder and scale-out levels.

Levels are written as text in settings: ``"2:50,3:25,4:25"`` means 50% of the position at
2R, 25% at 3R, 25% at 4R; ``"3%:50,6%:50"`` means levels in percent of the entry price.
The trailing ladder ``"1.5:1,3:0.5"`` means: from 1.5R trail 1R below the high-water mark,
from 3R trail 0.5R below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum

HUNDRED = Decimal(100)


class LevelUnit(Enum):
    """How a scale-out trigger is measured from the entry."""

    R = "R"
    PERCENT = "%"


@dataclass(frozen=True)
class ScaleLevel:
    """Take ``share_pct`` percent of the original position when price reaches ``trigger``."""

    trigger: Decimal
    share_pct: Decimal
    unit: LevelUnit = LevelUnit.R

    @property
    def label(self) -> str:
        """The exit reason this level records, e.g. ``scale_out_2R`` or ``scale_out_3%``."""
        return f"scale_out_{self.trigger.normalize():f}{self.unit.value}"


@dataclass(frozen=True)
class TrailStep:
    """From ``from_r`` R of favourable excursion on, trail ``trail_r`` R behind the best price."""

    from_r: Decimal
    trail_r: Decimal


@dataclass(frozen=True)
class ProtectionConfig:
    """Rules of profit protection for one position; validated on construction."""

    breakeven_trigger_r: Decimal = Decimal(1)
    trailing_ladder: tuple[TrailStep, ...] = (
        TrailStep(Decimal("1.5"), Decimal(1)),
        TrailStep(Decimal(3), Decimal("0.5")),
    )
    scaled_exits_enabled: bool = True
    scale_levels: tuple[ScaleLevel, ...] = field(
        default_factory=lambda: parse_scale_levels("2:50,3:25,4:25")
    )

    def __post_init__(self) -> None:
        if self.breakeven_trigger_r <= 0:
            raise ValueError(f"breakeven trigger must be above 0R, got {self.breakeven_trigger_r}R")
        previous: Decimal | None = None
        for step in self.trailing_ladder:
            if step.from_r <= 0 or step.trail_r <= 0:
                raise ValueError(f"trailing step {step} must have positive R values")
            if previous is not None and step.from_r <= previous:
                raise ValueError("trailing ladder steps must be in strictly increasing order of R")
            previous = step.from_r
        total = sum((level.share_pct for level in self.scale_levels), Decimal(0))
        if total > HUNDRED:
            raise ValueError(f"scale-out shares sum to {total}%, more than 100% of the position")
        triggers = [(level.unit, level.trigger) for level in self.scale_levels]
        if len(set(triggers)) != len(triggers):
            raise ValueError("scale-out levels must have distinct triggers")
        for level in self.scale_levels:
            if level.trigger <= 0 or level.share_pct <= 0:
                raise ValueError(f"scale-out level {level} must have a positive trigger and share")


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{what}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what}: {text!r} is not a finite number")
    return value


def parse_scale_levels(text: str) -> tuple[ScaleLevel, ...]:
    """Parse ``"2:50,3:25,4:25"`` (R) or ``"3%:50,6%:50"`` (percent of price) into levels."""
    levels: list[ScaleLevel] = []
    for part in (p for p in text.split(",") if p.strip()):
        if part.count(":") != 1:
            raise ValueError(f"scale-out level {part!r} must look like TRIGGER:SHARE, e.g. 2:50 or 3%:50")
        trigger_text, share_text = part.split(":")
        trigger_text = trigger_text.strip()
        unit = LevelUnit.R
        if trigger_text.endswith("%"):
            unit, trigger_text = LevelUnit.PERCENT, trigger_text[:-1]
        elif trigger_text.upper().endswith("R"):
            trigger_text = trigger_text[:-1]
        trigger = _decimal(trigger_text, f"scale-out level {part!r} trigger")
        share = _decimal(share_text, f"scale-out level {part!r} share")
        levels.append(ScaleLevel(trigger, share, unit))
    if len({level.unit for level in levels}) > 1:
        raise ValueError(f"scale-out levels {text!r} mix R and percent triggers; use one unit")
    return tuple(sorted(levels, key=lambda level: level.trigger))


def parse_trailing_ladder(text: str) -> tuple[TrailStep, ...]:
    """Parse ``"1.5:1,3:0.5"`` (from R : trail R) into trailing steps sorted by trigger."""
    steps: list[TrailStep] = []
    for part in (p for p in text.split(",") if p.strip()):
        if part.count(":") != 1:
            raise ValueError(f"trailing step {part!r} must look like FROM_R:TRAIL_R, e.g. 1.5:1")
        from_text, trail_text = part.split(":")
        steps.append(
            TrailStep(
                _decimal(from_text.strip().rstrip("Rr"), f"trailing step {part!r}"),
                _decimal(trail_text.strip().rstrip("Rr"), f"trailing step {part!r}"),
            )
        )
    return tuple(sorted(steps, key=lambda step: step.from_r))
