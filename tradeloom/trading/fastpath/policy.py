"""The position-management policy the fast path understands, as plain validated numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tradeloom.trading.risk.protection_rules import LevelUnit, ProtectionConfig


def _finite(name: str, value: float, low: float = 0.0, high: float = math.inf, low_open: bool = False) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (low_open and value == low) or value >= high:
        bound = f"({low}" if low_open else f"[{low}"
        raise ValueError(f"{name} must lie in {bound}, {high}), got {value}")


@dataclass(frozen=True)
class FastPolicy:
    """Stop, target, fees, size and the R-based protection rules; percentages are in percent.

    ``trailing`` holds (from R, trail R) rungs; ``scale_outs`` holds (trigger, share %) levels
    with triggers in R, or in percent of the entry price when ``scale_outs_in_percent``.
    ``direction`` is +1 (takes long entries) or -1 (takes short entries). ``stop_basis`` says
    what the stop percentage is of: ``"entry"`` (the fill price, as the fixed policy does) or
    ``"signal_close"`` (the close the entry was decided at, as the protection policy sizes R).
    A tick or lot size of 0 leaves prices or quantities unrounded.
    """

    stop_pct: float
    take_profit_pct: float | None = None
    fee_pct: float = 0.0
    size: float = 1.0
    cash: float = 100_000.0
    direction: int = 1
    breakeven_r: float | None = None
    trailing: tuple[tuple[float, float], ...] = ()
    scale_outs: tuple[tuple[float, float], ...] = ()
    scale_outs_in_percent: bool = False
    tick_size: float = 0.0
    lot_size: float = 0.0
    stop_basis: str = "entry"

    def __post_init__(self) -> None:
        if self.stop_basis not in ("entry", "signal_close"):
            raise ValueError(f"stop_basis must be 'entry' or 'signal_close', got {self.stop_basis!r}")
        _finite("stop_pct", self.stop_pct, 0.0, 100.0, low_open=True)
        if self.take_profit_pct is not None:
            _finite("take_profit_pct", self.take_profit_pct, 0.0, low_open=True)
        _finite("fee_pct", self.fee_pct, 0.0, 100.0)
        _finite("size", self.size, 0.0, low_open=True)
        _finite("cash", self.cash, 0.0)
        if self.direction not in (1, -1):
            raise ValueError(f"direction must be +1 (long) or -1 (short), got {self.direction!r}")
        if self.breakeven_r is not None:
            _finite("breakeven_r", self.breakeven_r, 0.0, low_open=True)
        previous = 0.0
        for rung in self.trailing:
            from_r, trail_r = rung
            _finite("trailing from R", from_r, 0.0, low_open=True)
            _finite("trailing distance R", trail_r, 0.0, low_open=True)
            if from_r <= previous:
                raise ValueError(f"trailing rungs must be in strictly increasing order of R, got {self.trailing}")
            previous = from_r
        previous, total = 0.0, 0.0
        for level in self.scale_outs:
            trigger, share = level
            _finite("scale-out trigger", trigger, 0.0, low_open=True)
            _finite("scale-out share %", share, 0.0, 100.0 + 1e-9, low_open=True)
            if trigger <= previous:
                raise ValueError(f"scale-out levels must be in strictly increasing order, got {self.scale_outs}")
            previous, total = trigger, total + share
        if total > 100.0 + 1e-9:
            raise ValueError(f"scale-out shares sum to {total}%, more than the position")
        _finite("tick_size", self.tick_size, 0.0)
        _finite("lot_size", self.lot_size, 0.0)

    @classmethod
    def protection(
        cls,
        config: ProtectionConfig,
        stop_pct: float,
        fee_pct: float = 0.0,
        take_profit_pct: float | None = None,
        **rest: float | int,
    ) -> FastPolicy:
        """The fast-path form of a profit-protection configuration from the risk package."""
        levels = config.scale_levels if config.scaled_exits_enabled else ()
        return cls(
            stop_pct=stop_pct,
            take_profit_pct=take_profit_pct,
            fee_pct=fee_pct,
            breakeven_r=float(config.breakeven_trigger_r),
            trailing=tuple((float(s.from_r), float(s.trail_r)) for s in config.trailing_ladder),
            scale_outs=tuple((float(lv.trigger), float(lv.share_pct)) for lv in levels),
            scale_outs_in_percent=bool(levels) and levels[0].unit is LevelUnit.PERCENT,
            stop_basis="signal_close",
            **rest,
        )

    def scale_out_label(self, index: int) -> str:
        """The exit reason of scale-out level ``index``, e.g. ``scale_out_2R`` (as the risk package names it)."""
        trigger = self.scale_outs[index][0]
        return f"scale_out_{trigger:g}{'%' if self.scale_outs_in_percent else 'R'}"
