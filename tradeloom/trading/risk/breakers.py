"""Circuit breakers: daily loss limit, maximum drawdown, stop-out cooldown and the kill switch.

Each breaker that holds asks for a trading state; the most severe one wins:

- ACTIVE: everything may trade;
- REDUCING: only orders that reduce exposure pass;
- HALTED: as REDUCING, and open entry orders are canceled (positions flattened by setting).

The daily loss limit measures equity against the first equity seen that UTC day and
releases at the next day. The drawdown breaker measures against the equity peak and
latches until a person resets it. The cooldown holds for a time after N stop-outs within a
window. The kill switch is read at every evaluation, so the engine obeys it within one loop.
Every change of state is recorded with its time (from the injected clock) and reason.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from tradeloom.trading.clock import Clock
from tradeloom.trading.risk.kill_switch import KillSwitch, NoKillSwitch

HUNDRED = Decimal(100)
DAY_NS = 86_400 * 10**9
SECOND_NS = 10**9


class TradingState(str, Enum):
    """What may trade now."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def severity(self) -> int:
        """0 active, 1 reducing, 2 halted."""
        return _SEVERITY[self]


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@dataclass(frozen=True)
class BreakerConfig:
    """Limits in percent of equity; a limit of 0 turns its breaker off."""

    daily_loss_limit_pct: Decimal = Decimal(3)
    daily_loss_state: TradingState = TradingState.HALTED
    max_drawdown_pct: Decimal = Decimal(15)
    max_drawdown_state: TradingState = TradingState.HALTED
    stop_out_limit: int = 3
    stop_out_window_s: int = 3600
    cooldown_s: int = 3600
    flatten_on_halt: bool = False

    def __post_init__(self) -> None:
        if self.daily_loss_limit_pct < 0 or self.max_drawdown_pct < 0:
            raise ValueError("loss limits must be percentages >= 0 (0 turns a breaker off)")
        if self.daily_loss_state is TradingState.ACTIVE or self.max_drawdown_state is TradingState.ACTIVE:
            raise ValueError("a breaker must move the state to reducing or halted, not active")
        if self.stop_out_limit < 0 or self.stop_out_window_s <= 0 or self.cooldown_s < 0:
            raise ValueError("stop-out limit must be >= 0 (0 off) and its window and cooldown positive")


@dataclass(frozen=True)
class StateChange:
    """The trading state moved from ``previous`` to ``current`` at ``ts`` (ns, UTC) because of ``reason``."""

    ts: int
    previous: TradingState
    current: TradingState
    reason: str


class CircuitBreakers:
    """The trading state as the breakers decide it; feed it equity and stop-outs, read ``state``."""

    def __init__(self, config: BreakerConfig, clock: Clock, kill_switch: KillSwitch | None = None) -> None:
        self.config, self.clock = config, clock
        self.kill_switch = kill_switch if kill_switch is not None else NoKillSwitch()
        self.state, self.reason = TradingState.ACTIVE, ""
        self.history: list[StateChange] = []
        self._day: int | None = None
        self._day_start = Decimal(0)
        self._daily_tripped = False
        self._peak = Decimal(0)
        self._drawdown_reason = ""
        self._stop_outs: deque[int] = deque()
        self._cooldown_until = 0
        self._last_equity = Decimal(0)

    @property
    def allows_entries(self) -> bool:
        """True when orders that add exposure may pass."""
        return self.state is TradingState.ACTIVE

    def refresh(self) -> StateChange | None:
        """Evaluate again with the last equity seen (a loop without fresh equity still obeys the kill switch)."""
        return self.update(self._last_equity)

    def update(self, equity: Decimal) -> StateChange | None:
        """Evaluate every breaker at the clock's time with the account's ``equity``; the change, if any."""
        self._last_equity = equity
        now = self.clock.now_ns()
        day = now // DAY_NS
        if day != self._day:
            self._day, self._day_start, self._daily_tripped = day, equity, False
        elif self._day_start <= 0:
            self._day_start = equity  # the day began before any equity was known
        cfg = self.config
        if cfg.daily_loss_limit_pct > 0 and self._day_start > 0 and not self._daily_tripped:
            loss_pct = (self._day_start - equity) * HUNDRED / self._day_start
            self._daily_tripped = loss_pct >= cfg.daily_loss_limit_pct
        if equity > self._peak:
            self._peak = equity
        if cfg.max_drawdown_pct > 0 and self._peak > 0 and not self._drawdown_reason:
            drawdown = (self._peak - equity) * HUNDRED / self._peak
            if drawdown >= cfg.max_drawdown_pct:
                self._drawdown_reason = (
                    f"drawdown {drawdown:.2f}% from the peak {self._peak} reached the limit {cfg.max_drawdown_pct}%"
                )
        wanted: list[tuple[TradingState, str]] = []
        switch = self.kill_switch.status()
        if switch.engaged:
            wanted.append((TradingState.HALTED, f"kill switch: {switch.reason}" + (f" (by {switch.by})" if switch.by else "")))
        if self._drawdown_reason:
            wanted.append((cfg.max_drawdown_state, self._drawdown_reason))
        if self._daily_tripped:
            wanted.append((cfg.daily_loss_state, f"daily loss reached the limit {cfg.daily_loss_limit_pct}% "
                                                 f"of the day's starting equity {self._day_start}"))
        if now < self._cooldown_until:
            wanted.append((TradingState.REDUCING, f"cooldown after {cfg.stop_out_limit} stop-outs within "
                                                  f"{cfg.stop_out_window_s}s, until {self._cooldown_until}"))
        state, reason = TradingState.ACTIVE, "all breakers clear"
        for candidate, why in wanted:
            if candidate.severity > state.severity:
                state, reason = candidate, why
        return self._move(now, state, reason)

    def record_stop_out(self) -> None:
        """A position was stopped out at a loss; N of them within the window start a cooldown."""
        cfg = self.config
        if cfg.stop_out_limit == 0:
            return
        now = self.clock.now_ns()
        self._stop_outs.append(now)
        while self._stop_outs and self._stop_outs[0] <= now - cfg.stop_out_window_s * SECOND_NS:
            self._stop_outs.popleft()
        if len(self._stop_outs) >= cfg.stop_out_limit:
            self._cooldown_until = now + cfg.cooldown_s * SECOND_NS
            self._stop_outs.clear()

    def reset_drawdown(self, equity: Decimal, reason: str) -> StateChange | None:
        """A person accepts the drawdown: the peak restarts at ``equity``; the change, if any."""
        if not reason.strip():
            raise ValueError("resetting the drawdown breaker needs a reason")
        self._peak, self._drawdown_reason = equity, ""
        change = self.update(equity)
        if change is not None:
            change = StateChange(change.ts, change.previous, change.current, f"drawdown reset: {reason}")
            self.history[-1] = change
        return change

    def memory(self) -> dict[str, object]:
        """What the breakers must remember across a restart, as JSON-ready values."""
        return {
            "state": self.state.value, "reason": self.reason, "day": self._day, "day_start": str(self._day_start),
            "daily_tripped": self._daily_tripped, "peak": str(self._peak), "drawdown_reason": self._drawdown_reason,
            "stop_outs": list(self._stop_outs), "cooldown_until": self._cooldown_until,
        }

    def restore(self, memory: dict[str, object]) -> None:
        """Take back a ``memory()``; the next ``update`` re-evaluates the state from it."""
        self.state, self.reason = TradingState(str(memory["state"])), str(memory["reason"])
        day = memory["day"]
        self._day = None if day is None else int(day)  # type: ignore[call-overload]
        self._day_start, self._peak = Decimal(str(memory["day_start"])), Decimal(str(memory["peak"]))
        self._daily_tripped = bool(memory["daily_tripped"])
        self._drawdown_reason = str(memory["drawdown_reason"])
        self._stop_outs = deque(int(ts) for ts in memory["stop_outs"])  # type: ignore[attr-defined]
        self._cooldown_until = int(memory["cooldown_until"])  # type: ignore[call-overload]

    def _move(self, now: int, state: TradingState, reason: str) -> StateChange | None:
        if state is self.state and (state is TradingState.ACTIVE or reason == self.reason):
            return None
        change = StateChange(now, self.state, state, reason)
        self.state, self.reason = state, reason
        self.history.append(change)
        return change
