"""R-based profit protection as a state machine per position: breakeven, trailing ladder, scale-outs.

R is the distance from entry to the initial stop. Everything is computed in "favourable
distance" (price minus entry for a long, entry minus price for a short), so longs and shorts
share one code path. Invariants kept at all times:

- the stop never loosens;
- once price has reached the breakeven trigger (1R by default) the stop is never on the
  losing side of entry;
- scale-outs (filled plus pending) never exceed the position, and each level is taken once;
- exit quantities are whole lots, so the remainder is whole lots covered by the stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from tradeloom.trading.risk.increments import ceil_to_step, floor_to_step, is_multiple
from tradeloom.trading.risk.protection_rules import HUNDRED, LevelUnit, ProtectionConfig

ZERO = Decimal(0)


class PositionSide(Enum):
    """Direction of a position; ``sign`` is +1 for long and -1 for short."""

    LONG = 1
    SHORT = -1

    @property
    def sign(self) -> int:
        """+1 for long, -1 for short."""
        return self.value


class StopReason(Enum):
    """Why the protective stop sits where it does; recorded as the exit reason if it fills."""

    INITIAL = "stop"
    BREAKEVEN = "breakeven"
    TRAILING = "trailing"


@dataclass(frozen=True)
class ScaleOut:
    """An exit of ``quantity`` for scale-out level ``level`` (index into the config's levels)."""

    level: int
    label: str
    trigger_price: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class ProtectionDecision:
    """What the position's orders should be after an update: one stop and any new scale-outs.

    The engine first resizes the stop to ``stop_quantity`` (which already excludes the new
    exits), then sends ``exits``; so exit quantity never exceeds the position and the rest
    is always covered by the stop.
    """

    stop_price: Decimal
    stop_quantity: Decimal
    stop_reason: StopReason
    stop_moved: bool
    exits: tuple[ScaleOut, ...] = ()


def round_trip_fee_offset(side: PositionSide, entry: Decimal, fee_rate: Decimal) -> Decimal:
    """Price distance beyond entry at which a round trip with ``fee_rate`` per side breaks even."""
    if fee_rate < 0 or fee_rate >= 1:
        raise ValueError(f"fee rate must be in [0, 1), got {fee_rate}")
    if side is PositionSide.LONG:
        return 2 * entry * fee_rate / (1 - fee_rate)
    return 2 * entry * fee_rate / (1 + fee_rate)


class ProtectionState:
    """The protection of one open position; feed it prices and fills, obey its decisions."""

    __slots__ = (
        "config", "side", "entry", "initial_stop", "quantity", "tick_size", "lot_size", "fee_offset",
        "r", "stop", "stop_reason", "best", "remaining", "pending", "taken", "reached_breakeven",
        "_sign", "_breakeven_d", "_trail", "_levels", "_idle",
    )

    def __init__(
        self,
        config: ProtectionConfig,
        side: PositionSide,
        entry: Decimal,
        initial_stop: Decimal,
        quantity: Decimal,
        tick_size: Decimal,
        lot_size: Decimal,
        fee_offset: Decimal = ZERO,
    ) -> None:
        if tick_size <= 0 or lot_size <= 0:
            raise ValueError(f"tick size and lot size must be positive, got {tick_size} and {lot_size}")
        if quantity <= 0 or not is_multiple(quantity, lot_size):
            raise ValueError(f"quantity {quantity} must be a positive multiple of the lot size {lot_size}")
        if fee_offset < 0:
            raise ValueError(f"fee offset must not be negative, got {fee_offset}")
        sign = side.sign
        risk = (entry - initial_stop) * sign
        if risk <= 0:
            raise ValueError(
                f"initial stop {initial_stop} must be on the losing side of entry {entry} for a {side.name} position"
            )
        self.config, self.side, self.entry, self.initial_stop = config, side, entry, initial_stop
        self.quantity, self.tick_size, self.lot_size, self.fee_offset = quantity, tick_size, lot_size, fee_offset
        self.r = risk
        self.stop, self.stop_reason = initial_stop, StopReason.INITIAL
        self.best = ZERO  # best favourable distance from entry seen so far
        self.remaining = quantity
        self._sign = sign
        self._breakeven_d = config.breakeven_trigger_r * risk
        self._trail = tuple((step.from_r * risk, step.trail_r * risk) for step in reversed(config.trailing_ladder))
        levels = config.scale_levels if config.scaled_exits_enabled else ()
        self._levels = tuple(
            (level.trigger * risk if level.unit is LevelUnit.R else entry * level.trigger / HUNDRED, level)
            for level in levels
        )
        self.pending: list[Decimal] = [ZERO] * len(levels)
        self.taken: list[bool] = [False] * len(levels)
        self.reached_breakeven = False
        self._idle: ProtectionDecision | None = None  # the answer to a price that changes nothing

    # -- queries -----------------------------------------------------------------------------

    @property
    def pending_total(self) -> Decimal:
        """Quantity in scale-out orders sent but not yet filled or closed."""
        return sum(self.pending, ZERO)

    @property
    def stop_quantity(self) -> Decimal:
        """The quantity the resting stop must cover: the position less pending scale-outs."""
        return self.remaining - self.pending_total

    @property
    def is_closed(self) -> bool:
        """True once nothing is left of the position."""
        return self.remaining == 0

    def snapshot(self, moved: bool = False, exits: tuple[ScaleOut, ...] = ()) -> ProtectionDecision:
        """The current stop as a decision (no new exits unless given)."""
        return ProtectionDecision(self.stop, self.stop_quantity, self.stop_reason, moved, exits)

    def level_price(self, index: int) -> Decimal:
        """The trigger price of scale-out level ``index``."""
        return self.entry + self._sign * self._levels[index][0]

    # -- events ------------------------------------------------------------------------------

    def on_price(self, price: Decimal) -> ProtectionDecision:
        """Evaluate a traded price: raise the stop as the rules allow and take reached levels."""
        if self.remaining == 0 or (price - self.entry) * self._sign <= self.best:
            idle = self._idle
            if idle is None or idle.stop_quantity != self.remaining - sum(self.pending, ZERO):
                idle = self._idle = self.snapshot()
            return idle
        sign = self._sign
        self.best = best = (price - self.entry) * sign
        self._idle = None
        moved = False
        if best >= self._breakeven_d:
            self.reached_breakeven = True
            candidate = self._round_tighter(self.entry + sign * self.fee_offset)
            if (price - candidate) * sign <= 0:
                candidate = self.entry  # fees larger than the move: protect the entry at least
            moved |= self._raise_stop(candidate, StopReason.BREAKEVEN)
        for from_d, trail_d in self._trail:
            if best >= from_d:
                moved |= self._raise_stop(self._round_looser(self.entry + sign * (best - trail_d)), StopReason.TRAILING)
                break
        exits = self._take_levels(best) if self._levels else ()
        return self.snapshot(moved, exits)

    def add_quantity(self, quantity: Decimal) -> None:
        """A later fill of the entry order added ``quantity``; levels not yet taken size from the new total."""
        if quantity <= 0 or not is_multiple(quantity, self.lot_size):
            raise ValueError(f"added quantity {quantity} must be a positive multiple of the lot size {self.lot_size}")
        self.quantity += quantity
        self.remaining += quantity

    def on_exit_fill(self, level: int, quantity: Decimal) -> None:
        """A scale-out order of ``level`` filled ``quantity`` (a partial fill is fine)."""
        if quantity <= 0 or quantity > self.pending[level]:
            raise ValueError(
                f"scale-out fill of {quantity} for level {level} exceeds its pending quantity {self.pending[level]}"
            )
        self.pending[level] -= quantity
        self.remaining -= quantity

    def on_exit_closed(self, level: int) -> None:
        """The scale-out order of ``level`` ended unfilled (canceled, rejected, expired); the level stays taken."""
        self.pending[level] = ZERO

    def on_stop_fill(self, quantity: Decimal) -> None:
        """The protective stop filled ``quantity``."""
        if quantity <= 0 or quantity > self.stop_quantity:
            raise ValueError(f"stop fill of {quantity} exceeds the stop's quantity {self.stop_quantity}")
        self.remaining -= quantity

    def on_position_reduced(self, quantity: Decimal) -> None:
        """Another exit (signal, conditional, breaker) reduced the position by ``quantity``."""
        if quantity <= 0 or quantity > self.stop_quantity:
            raise ValueError(f"exit of {quantity} exceeds the quantity not already being exited {self.stop_quantity}")
        self.remaining -= quantity

    # -- persistence -------------------------------------------------------------------------

    def memory(self) -> dict[str, object]:
        """Everything needed to continue after a restart, as JSON-ready values (decimals as text)."""
        return {
            "side": self.side.name, "entry": str(self.entry), "initial_stop": str(self.initial_stop),
            "quantity": str(self.quantity), "tick_size": str(self.tick_size), "lot_size": str(self.lot_size),
            "fee_offset": str(self.fee_offset), "stop": str(self.stop), "stop_reason": self.stop_reason.value,
            "best": str(self.best), "remaining": str(self.remaining), "pending": [str(p) for p in self.pending],
            "taken": list(self.taken), "reached_breakeven": self.reached_breakeven,
        }

    @classmethod
    def restore(cls, config: ProtectionConfig, memory: dict[str, object]) -> ProtectionState:
        """A state from ``memory()`` under ``config`` (which must have the same number of scale-out levels)."""
        def dec(key: str) -> Decimal:
            return Decimal(str(memory[key]))

        state = cls(config, PositionSide[str(memory["side"])], dec("entry"), dec("initial_stop"), dec("quantity"),
                    dec("tick_size"), dec("lot_size"), dec("fee_offset"))
        pending = [Decimal(str(p)) for p in memory["pending"]]  # type: ignore[attr-defined]
        taken = [bool(t) for t in memory["taken"]]  # type: ignore[attr-defined]
        if len(pending) != len(state.pending) or len(taken) != len(state.taken):
            raise ValueError(f"stored protection has {len(taken)} scale-out levels, the configuration {len(state.taken)}")
        state.stop, state.stop_reason = dec("stop"), StopReason(str(memory["stop_reason"]))
        state.best, state.remaining = dec("best"), dec("remaining")
        state.pending, state.taken = pending, taken
        state.reached_breakeven = bool(memory["reached_breakeven"])
        return state

    # -- internals ---------------------------------------------------------------------------

    def _raise_stop(self, candidate: Decimal, reason: StopReason) -> bool:
        if (candidate - self.stop) * self._sign > 0:
            self.stop, self.stop_reason = candidate, reason
            return True
        return False

    def _round_tighter(self, price: Decimal) -> Decimal:
        """Round toward profit (up for a long) so a breakeven stop still covers the fees."""
        if self._sign > 0:
            return ceil_to_step(price, self.tick_size)
        return floor_to_step(price, self.tick_size)

    def _round_looser(self, price: Decimal) -> Decimal:
        """Round away from price so a trailing stop keeps at least its trail distance."""
        if self._sign > 0:
            return floor_to_step(price, self.tick_size)
        return ceil_to_step(price, self.tick_size)

    def _take_levels(self, best: Decimal) -> tuple[ScaleOut, ...]:
        exits: list[ScaleOut] = []
        shares_so_far = ZERO
        for index, (trigger_d, level) in enumerate(self._levels):
            shares_so_far += level.share_pct
            if self.taken[index] or best < trigger_d:
                continue
            self.taken[index] = True
            available = self.stop_quantity
            if shares_so_far == HUNDRED and all(self.taken):
                quantity = available  # the last level of a full ladder takes what is left
            else:
                quantity = min(floor_to_step(self.quantity * level.share_pct / HUNDRED, self.lot_size), available)
            if quantity <= 0:
                continue
            self.pending[index] += quantity
            exits.append(ScaleOut(index, level.label, self.entry + self._sign * trigger_d, quantity))
        return tuple(exits)
