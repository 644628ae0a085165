"""The full position-management policy: sizing, dynamic stop and chase validation on entry; breakeven, trailing ladder,
scale-outs, conditional exit and breaker reactions while a position is open.

It implements ``tradeloom.trading.policy.PositionPolicy`` on top of ``ProtectionState`` (one
per position). Order of intents when a scale-out level is reached: first the stop is resized
to the quantity that stays (``SetStop`` with ``quantity``), then the scale-out is sent at
market, so exit orders never add up to more than the position and the rest always has a stop.
Entry fills after the first one (a partially filled entry) add quantity; the entry price
and R stay those of the first fill, so the stop never moves back. The stop order's reason is ``stop``, ``breakeven`` or ``trailing``; a scale-out's is its
level (``scale_out_2R``); a conditional exit's lists the conditions that held.

An entry the policy does not make (trading state, a refused chase into a surge, a size that
rounds to nothing) is kept in ``skipped_entries`` with its kind and reason, and counted by
kind for reports (``entries_skipped_by_reason``). A chase is counted against the cooldown
and the daily limit only when its entry fills: the plan remembers which symbol's pending
entry is a chase, and the entry's first fill records it, so an entry the execution planner
or the risk gate refuses, or one that never fills, leaves the chase counters untouched.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, Protocol, runtime_checkable

from tradeloom.trading.clock import Clock
from tradeloom.trading.events import Fill
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.orders import Purpose, Side
from tradeloom.trading.policy import (
    CancelEntries,
    EntryPlan,
    EntryRequest,
    ExitPosition,
    Intent,
    PositionState,
    ScaleOut,
    SetStop,
)
from tradeloom.trading.risk.breakers import CircuitBreakers, TradingState
from tradeloom.trading.risk.conditional_exit import decide_conditional_exit
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.dynamic_stop import ExcursionHistory, NoExcursionHistory, initial_stop_distance, stop_price
from tradeloom.trading.risk.execution.surge import ChaseGuard, Surge, detect_surge
from tradeloom.trading.risk.protection import PositionSide, ProtectionState, round_trip_fee_offset
from tradeloom.trading.risk.sizing import TradeStats, TradeTally, bar_volatility_pct, position_size

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class SkippedEntry(NamedTuple):
    """An entry the policy did not make: when, which symbol, the kind of rule (for counting) and the full reason."""

    ts: int
    symbol: str
    kind: str  # "trading_state", "chase_distance", "chase_cooldown", "chase_daily_limit", "size"
    reason: str


@dataclass(frozen=True)
class BarArrays:
    """Recent bars of one symbol, oldest first, up to and including the current bar."""

    highs: Sequence[float]
    lows: Sequence[float]
    closes: Sequence[float]
    volumes: Sequence[float]


@runtime_checkable
class BarWindow(Protocol):
    """Recent bars the strategy may see (no look-ahead), for ATR and exit signals."""

    def recent(self, symbol: str, count: int) -> BarArrays | None:
        """Up to ``count`` bars ending at the current one; None if none are known."""
        ...


class NoBars:
    """No bar history: the stop is the strategy's base and the conditional exit stays silent."""

    def recent(self, symbol: str, count: int) -> BarArrays | None:
        """Nothing."""
        return None


def _side(side: Side) -> PositionSide:
    return PositionSide.LONG if side is Side.BUY else PositionSide.SHORT


class ProtectionPolicy:
    """Profit protection as configured: implements ``PositionPolicy``."""

    wants_market_data = True

    def __init__(
        self,
        config: RiskConfig,
        base_stop_pct: Decimal,
        fee_rate: Decimal = ZERO,
        breakers: CircuitBreakers | None = None,
        bars: BarWindow | None = None,
        excursions: ExcursionHistory | None = None,
        trade_stats: TradeStats | None = None,  # from the learning engine; None: this run's own trades
        fixed_quantity: Decimal | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not ZERO < base_stop_pct < HUNDRED:
            raise ValueError(f"base stop must be in (0, 100) percent, got {base_stop_pct}")
        self.config, self.base_stop_pct, self.fee_rate = config, base_stop_pct, fee_rate
        self.breakers, self.trade_stats, self.fixed_quantity = breakers, trade_stats, fixed_quantity
        self.bars: BarWindow = bars if bars is not None else NoBars()
        self.excursions: ExcursionHistory = excursions if excursions is not None else NoExcursionHistory()
        self.instruments: dict[str, Instrument] = dict(instruments or {})
        if clock is None and breakers is not None:
            clock = breakers.clock
        if bars is not None and clock is None:
            raise ValueError("a policy that sees bars validates chases per day: pass clock= or breakers=")
        self.chase_guard = ChaseGuard(config.surge, clock) if clock is not None else None
        self.skipped_entries: deque[SkippedEntry] = deque(maxlen=10_000)  # newest last
        self.skipped_counts: Counter[str] = Counter()  # every skipped entry of the run, by kind
        self.states: dict[str, ProtectionState] = {}
        self.tally = TradeTally()  # this run's closed trades: Kelly sizing once enough exist
        self._opening: dict[str, tuple[Decimal, Decimal]] = {}  # position id -> (realised, fees) before it
        self._distance: dict[str, Decimal] = {}
        self._pending_chases: dict[str, Surge] = {}  # symbol -> the surge its planned, unfilled entry chases
        self._seen_changes = 0

    # -- PositionPolicy ----------------------------------------------------------------------

    def plan_entry(self, request: EntryRequest) -> EntryPlan | None:
        """Size the entry from the risk rules and place its initial stop (dynamic when enabled)."""
        self._pending_chases.pop(request.symbol, None)  # an earlier planned entry of the symbol never filled
        if self.breakers is not None:
            self.breakers.update(request.equity)  # a new day or a released switch shows here first
            if not self.breakers.allows_entries:
                self._skip(request, "trading_state",
                           f"trading state {self.breakers.state.value}: {self.breakers.reason}")
                return None
        side, instrument, reference = _side(request.side), request.instrument, request.reference_price
        self.instruments[request.symbol] = instrument
        surge_config = self.config.surge
        window = self.bars.recent(request.symbol, max(self.config.dynamic_stop.long_run_period, surge_config.history) + 1)
        chase = ""
        surge: Surge | None = None
        if window is not None and len(window.closes) > surge_config.history and self.chase_guard is not None:
            surge = detect_surge(surge_config, window.closes, window.volumes, side.sign)
            if surge is not None:
                verdict = self.chase_guard.check(request.symbol, reference, surge, side.sign)
                if not verdict.allowed:
                    self._skip(request, f"chase_{verdict.rule}", f"chase refused: {verdict.reason}")
                    return None
                chase = f"; {verdict.reason}"
        base = reference * self.base_stop_pct / HUNDRED
        distance, source = base, "base"
        if self.config.dynamic_stop.enabled and window is not None and len(window.closes) > self.config.dynamic_stop.atr_period:
            excursions = self.excursions.adverse_excursions(request.symbol, side, {"confidence": request.confidence})
            chosen = initial_stop_distance(self.config.dynamic_stop, base, window.highs, window.lows, window.closes,
                                           excursions, reference)
            distance, source = chosen.distance, chosen.source + (f" ({chosen.bounded})" if chosen.bounded else "")
        stop = stop_price(side, reference, distance, instrument.tick_size)
        if self.fixed_quantity is not None:
            quantity, sizing = instrument.round_quantity(self.fixed_quantity), "fixed size"
        else:
            volatility = None
            if self.config.sizing.volatility_target_pct > 0 and window is not None:
                volatility = bar_volatility_pct(window.closes)
            stats = self.trade_stats if self.trade_stats is not None else self.tally.stats()
            size = position_size(self.config.sizing, request.equity, reference, stop, instrument.lot_size,
                                 stats, volatility)
            quantity, sizing = size.quantity, f"risk {size.risk_pct:.2f}% bound by {size.binding}"
        if quantity <= 0:
            self._skip(request, "size", f"size rounds to nothing ({sizing})")
            return None
        if surge is not None:
            self._pending_chases[request.symbol] = surge  # counted when the entry fills
        self._distance[request.symbol] = (reference - stop) * side.sign
        return EntryPlan(quantity, stop, f"{sizing}; stop from {source}{chase}")

    def on_fill(self, state: PositionState, fill: Fill, purpose: Purpose) -> Sequence[Intent]:
        """Start protection on the entry fill (recording a chase); account exits; forget a closed position."""
        if purpose is Purpose.ENTRY:
            self._record_chase(state.symbol)
        if state.quantity == 0:
            self.states.pop(state.position_id, None)
            opening = self._opening.pop(state.position_id, None)
            if opening is not None:
                self.tally.record((state.realised_pnl - opening[0]) - (state.fees - opening[1]))
            return ()
        protection = self.states.get(state.position_id)
        if purpose is Purpose.ENTRY:
            if protection is None:
                self._opening[state.position_id] = (state.realised_pnl, state.fees - fill.fee)
                protection = self._start(state)
            else:
                protection.add_quantity(fill.quantity)
                self._sync(protection, state)
            return (SetStop(protection.stop, protection.stop_reason.value, protection.stop_quantity),)
        if protection is None:
            return ()
        if purpose is Purpose.SCALE_OUT:
            left = fill.quantity
            for level, pending in enumerate(protection.pending):
                take = min(left, pending)
                if take > 0:
                    protection.on_exit_fill(level, take)
                    left -= take
        self._sync(protection, state)
        return ()

    def on_market_data(self, state: PositionState) -> Sequence[Intent]:
        """Evaluate the bar: breakers, conditional exit, then breakeven, trailing and scale-outs."""
        intents: list[Intent] = []
        breaker_intents = self._breaker_intents(state)
        intents.extend(breaker_intents)
        protection = self.states.get(state.position_id)
        if protection is None or state.quantity == 0:
            return intents
        self._sync(protection, state)
        if any(isinstance(intent, ExitPosition) for intent in breaker_intents):
            return intents
        best = Decimal(repr(state.high if protection.side is PositionSide.LONG else state.low))
        decision = protection.on_price(best)
        exits = decision.exits
        exiting = state.pending_exit_quantity >= state.quantity  # a full exit (signal, breaker) is working
        if exiting and exits:
            for exit_ in exits:  # the exit replaces the scale-outs of the same close; their levels stay taken
                protection.pending[exit_.level] -= exit_.quantity
            exits = ()
        if exits or decision.stop_moved:
            # quantity None when exits take everything: the stop still moves and stays until they fill
            quantity = protection.stop_quantity if protection.stop_quantity > 0 else None
            intents.append(SetStop(decision.stop_price, decision.stop_reason.value, quantity))
        intents.extend(ScaleOut(exit_.quantity, exit_.label) for exit_ in exits)
        if not exits and not exiting:
            conditional = self._conditional_exit(state, protection)
            if conditional is not None:
                intents.append(conditional)
        return intents

    def entries_skipped_by_reason(self) -> dict[str, int]:
        """How many entries this policy did not make, by kind of rule, most frequent first (ties by name)."""
        return dict(sorted(self.skipped_counts.items(), key=lambda item: (-item[1], item[0])))

    # -- internals ---------------------------------------------------------------------------

    def _skip(self, request: EntryRequest, kind: str, reason: str) -> None:
        self.skipped_entries.append(SkippedEntry(request.ts, request.symbol, kind, reason))
        self.skipped_counts[kind] += 1

    def _record_chase(self, symbol: str) -> None:
        if self._pending_chases.pop(symbol, None) is not None and self.chase_guard is not None:
            self.chase_guard.record(symbol)

    def _start(self, state: PositionState) -> ProtectionState:
        side, entry = _side(state.side), state.average_entry
        distance = self._distance.get(state.symbol) or entry * self.base_stop_pct / HUNDRED
        instrument = self._instrument(state.symbol)
        stop = stop_price(side, entry, distance, instrument.tick_size)
        protection = ProtectionState(
            self.config.protection, side, entry, stop, state.quantity, instrument.tick_size, instrument.lot_size,
            round_trip_fee_offset(side, entry, self.fee_rate),
        )
        self.states[state.position_id] = protection
        return protection

    def _sync(self, protection: ProtectionState, state: PositionState) -> None:
        """The engine's view wins: open quantity, and scale-outs no longer working are released."""
        protection.remaining = state.quantity
        excess = protection.pending_total - state.pending_exit_quantity
        for level in reversed(range(len(protection.pending))):
            if excess <= 0:
                break
            release = min(excess, protection.pending[level])
            protection.pending[level] -= release
            excess -= release

    def _breaker_intents(self, state: PositionState) -> list[Intent]:
        if self.breakers is None:
            return []
        self.breakers.refresh()  # the kill switch is read on every bar
        history = self.breakers.history
        fresh = history[self._seen_changes:]
        self._seen_changes = len(history)
        intents: list[Intent] = []
        if any(change.current is TradingState.HALTED for change in fresh):
            intents.append(CancelEntries(f"halted: {self.breakers.reason}"))
        if self.breakers.state is TradingState.HALTED and self.breakers.config.flatten_on_halt and state.quantity > 0:
            intents.append(ExitPosition(f"breaker: {self.breakers.reason}"))
        return intents

    def _conditional_exit(self, state: PositionState, protection: ProtectionState) -> ExitPosition | None:
        config = self.config.conditional_exit
        if not config.enabled:
            return None
        window = self.bars.recent(state.symbol, max(config.bars_needed, config.swing_lookback))
        if window is None or len(window.closes) < config.bars_needed:
            return None
        decision = decide_conditional_exit(config, protection.side, protection.entry, Decimal(repr(state.close)),
                                           window.highs, window.lows, window.closes, window.volumes)
        return ExitPosition(decision.reason) if decision.exit else None

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise ValueError(f"no instrument known for {symbol}; pass it in instruments= or plan the entry first") from None
