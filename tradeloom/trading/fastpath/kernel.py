"""The compiled bar loop: one position at a time, fixed stop/target or the full R-based protection.

The rules are the event-by-event engine's (SimulatedVenue, FixedStopTakeProfit and the risk
package's ProtectionPolicy), per bar ``j`` for a long (a short is the mirror image):

1. At the open, first the resting orders the open gapped through fill at the open: the stop
   (for the quantity not being scaled out) or else the take-profit. Then the market orders
   sent at the previous close: scale-outs, a signal exit (what is left), an entry. An entry's
   stop is ``entry * (1 - stop)`` (``stop_basis`` 0, the fixed policy) or
   ``entry - close[j-1] * stop`` (basis 1, the protection policy, whose R comes from the
   signal bar's close); R = entry - stop. A take-profit, if any, rests at
   ``entry * (1 + tp)``. Stops and targets rest from the entry bar on.
2. The stop fills what is left at its price if the low touches it (touching is enough; on
   the entry bar too). It is looked at before the target, so a bar touching both stops out.
3. Then the take-profit at its price if the high trades strictly through it (the venue's
   queue assumption: touching a resting limit is not enough; a gap through it at the open
   fills at the open).
4. At the close the position management sees the bar's high (the best price so far): the stop
   moves to breakeven (entry plus round-trip fees) once the best price is ``be_r`` R away, then
   trails the best price by the highest reached rung of the ladder; it never loosens. Each
   scale-out level the best price has reached is taken once: its share of the entry quantity
   (the last level of a full ladder: all that is left) is sent at market for the next open.
   Then the bar's signals: an exit (when holding; it withdraws the scale-outs of this close,
   the stop grows back to the whole position, and the exit takes what is left at the next
   open) or an entry in ``direction`` (when flat).

Prices the policy makes are rounded to ``tick`` as the engine rounds them: the fixed stop and
target in the owner's safe direction (a long's up), the protection stop looser, breakeven
tighter, trailing looser; scale-out quantities down to ``lot``. Every fill pays ``fee_frac``
of its notional. Cash, position and equity are float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

REASON_STOP = 1
REASON_BREAKEVEN = 2
REASON_TRAILING = 3
REASON_TAKE_PROFIT = 4
REASON_SIGNAL = 5
REASON_SCALE_OUT = 10  # + level index

# A price a few ulps off a grid point is on it (float error, e.g. 168.04525 * 1.04), so it is
# not pushed a whole tick by ceil/floor; grid values of this data never lie that close otherwise.
_SNAP = 1e-9
_SNAP_REL = 1e-13
_TIE = 1e-12


@njit(cache=True, inline="always")
def _on_grid(steps: float, step: float) -> float:
    # k / (1/step) when 1/step is whole (0.01 -> /100): the float nearest the decimal k*step,
    # so grid prices compare as the engine's Decimals do; k * step would be off by an ulp
    per_unit = 1.0 / step
    whole = np.round(per_unit)
    if whole >= 1.0 and abs(per_unit - whole) < _SNAP * whole:
        return steps / whole
    return steps * step


@njit(cache=True, inline="always")
def _to_tick(price: float, tick: float, up: bool) -> float:
    if tick <= 0.0:
        return price
    steps = price / tick
    nearest = np.round(steps)
    if abs(steps - nearest) < max(_SNAP, _SNAP_REL * abs(steps)):
        steps = nearest
    return _on_grid(np.ceil(steps) if up else np.floor(steps), tick)


@njit(cache=True, inline="always")
def _to_lot(quantity: float, lot: float) -> float:
    if lot <= 0.0:
        return quantity
    steps = quantity / lot
    nearest = np.round(steps)
    if abs(steps - nearest) < max(_SNAP, _SNAP_REL * abs(steps)):
        steps = nearest
    return _on_grid(np.floor(steps), lot)


@njit(cache=True, inline="always")
def _record(cols, nt, pos, entry_i, exit_i, entry_px, exit_px, q, reason, entry_fee, exit_fee) -> int:
    (t_pos, t_entry_i, t_exit_i, t_entry_px, t_exit_px, t_qty, t_reason, t_entry_fee, t_exit_fee) = cols
    t_pos[nt] = pos
    t_entry_i[nt] = entry_i
    t_exit_i[nt] = exit_i
    t_entry_px[nt] = entry_px
    t_exit_px[nt] = exit_px
    t_qty[nt] = q
    t_reason[nt] = reason
    t_entry_fee[nt] = entry_fee
    t_exit_fee[nt] = exit_fee
    return nt + 1


@njit(cache=True)
def simulate(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    exit_: np.ndarray,
    direction: int,
    size: float,
    cash0: float,
    stop_frac: float,
    stop_basis: int,
    tp_frac: float,
    fee_frac: float,
    be_r: float,
    trail_from_r: np.ndarray,
    trail_by_r: np.ndarray,
    level_trigger: np.ndarray,
    level_share: np.ndarray,
    level_in_percent: bool,
    tick: float,
    lot: float,
    capacity: int,
):
    """Run the bar loop; returns (trade columns, equity, open quantity, open entry index/price, cash)."""
    n = len(close)
    d = float(direction)
    n_levels = len(level_trigger)
    n_steps = len(trail_from_r)
    share_total = 0.0
    for k in range(n_levels):
        share_total += level_share[k]
    full_ladder = n_levels > 0 and abs(share_total - 1.0) < 1e-12

    cols = (
        np.empty(capacity, np.int64), np.empty(capacity, np.int64), np.empty(capacity, np.int64),
        np.empty(capacity, np.float64), np.empty(capacity, np.float64), np.empty(capacity, np.float64),
        np.empty(capacity, np.int64), np.empty(capacity, np.float64), np.empty(capacity, np.float64),
    )
    equity = np.empty(n, np.float64)
    level_d = np.empty(n_levels, np.float64)
    taken = np.zeros(n_levels, np.bool_)
    pending_q = np.zeros(n_levels, np.float64)

    cash = cash0
    qty = 0.0  # remaining quantity, unsigned
    qty0 = 1.0
    entry_px = 0.0
    entry_i = -1
    entry_fee = 0.0
    stop = 0.0
    stop_reason = REASON_STOP
    tp = np.nan
    r = 0.0
    best = 0.0
    be_offset = 0.0
    n_pos = 0
    nt = 0
    pending_entry = False
    pending_exit = False
    pending_scale = False

    for j in range(n):
        o = open_[j]
        # 1. at the open: resting orders the open gapped through (the stop for what is not being
        #    scaled out, else the target), then the market orders sent at the last close
        if qty > 0.0:
            pending_total = 0.0
            for k in range(n_levels):
                pending_total += pending_q[k]
            fill = np.nan
            reason = stop_reason
            q = qty - pending_total if qty - pending_total > 1e-12 * qty0 else qty
            if d * (o - stop) <= 0.0:
                fill = o
            elif not np.isnan(tp) and d * (o - tp) > 0.0:
                fill = o
                reason = REASON_TAKE_PROFIT
                q = qty
            if not np.isnan(fill):
                fee = q * o * fee_frac
                cash += d * q * o - fee
                nt = _record(cols, nt, n_pos - 1, entry_i, j, entry_px, o, q, reason, entry_fee * q / qty0, fee)
                qty -= q
                if qty <= 1e-12 * qty0:
                    qty = 0.0
        if pending_scale:
            for k in range(n_levels):
                q = min(pending_q[k], qty)
                pending_q[k] = 0.0
                if q > 0.0:
                    fee = q * o * fee_frac
                    cash += d * q * o - fee
                    nt = _record(cols, nt, n_pos - 1, entry_i, j, entry_px, o, q, REASON_SCALE_OUT + k,
                                 entry_fee * q / qty0, fee)
                    qty -= q
                    if qty <= 1e-12 * qty0:
                        qty = 0.0
            pending_scale = False
        if pending_exit:
            if qty > 0.0:
                fee = qty * o * fee_frac
                cash += d * qty * o - fee
                nt = _record(cols, nt, n_pos - 1, entry_i, j, entry_px, o, qty, REASON_SIGNAL,
                             entry_fee * qty / qty0, fee)
                qty = 0.0
            pending_exit = False
        if pending_entry:
            entry_px = o
            entry_i = j
            qty0 = size
            qty = size
            entry_fee = size * o * fee_frac
            cash -= d * size * o + entry_fee
            if stop_basis == 1:
                stop = _to_tick(o - d * close[j - 1] * stop_frac, tick, d < 0.0)
            else:
                stop = _to_tick(o * (1.0 - d * stop_frac), tick, d > 0.0)
            stop_reason = REASON_STOP
            r = d * (o - stop)
            tp = _to_tick(o * (1.0 + d * tp_frac), tick, d > 0.0) if tp_frac > 0.0 else np.nan
            best = 0.0
            if d > 0.0:
                be_offset = 2.0 * o * fee_frac / (1.0 - fee_frac)
            else:
                be_offset = 2.0 * o * fee_frac / (1.0 + fee_frac)
            for k in range(n_levels):
                level_d[k] = o * level_trigger[k] / 100.0 if level_in_percent else level_trigger[k] * r
                taken[k] = False
                pending_q[k] = 0.0
            n_pos += 1
            pending_entry = False

        if qty > 0.0:
            favourable = high[j] if d > 0.0 else low[j]
            adverse = low[j] if d > 0.0 else high[j]
            # 2. the stop, then 3. the take-profit; a gap through either fills at the open
            fill = np.nan
            reason = stop_reason
            if d * (o - stop) <= 0.0:
                fill = o
            elif d * (adverse - stop) <= 0.0:
                fill = stop
            elif not np.isnan(tp):
                reason = REASON_TAKE_PROFIT
                if d * (o - tp) > 0.0:
                    fill = o
                elif d * (favourable - tp) > 0.0:
                    fill = tp
            if not np.isnan(fill):
                fee = qty * fill * fee_frac
                cash += d * qty * fill - fee
                nt = _record(cols, nt, n_pos - 1, entry_i, j, entry_px, fill, qty, reason, entry_fee * qty / qty0, fee)
                qty = 0.0
            # 4. position management at the close
            if qty > 0.0:
                dist = d * (favourable - entry_px)
                if dist > best:
                    best = dist
                    eps = _TIE * entry_px  # a level reached exactly on the tick grid counts as reached
                    if be_r > 0.0 and best >= be_r * r - eps:
                        cand = _to_tick(entry_px + d * be_offset, tick, d > 0.0)
                        if d * (favourable - cand) <= eps:
                            cand = entry_px
                        if d * (cand - stop) > 0.0:
                            stop = cand
                            stop_reason = REASON_BREAKEVEN
                    for s in range(n_steps - 1, -1, -1):
                        if best >= trail_from_r[s] * r - eps:
                            cand = _to_tick(entry_px + d * (best - trail_by_r[s] * r), tick, d < 0.0)
                            if d * (cand - stop) > 0.0:
                                stop = cand
                                stop_reason = REASON_TRAILING
                            break
                    available = qty
                    for k in range(n_levels):
                        available -= pending_q[k]
                    for k in range(n_levels):
                        if taken[k] or best < level_d[k] - eps:
                            continue
                        taken[k] = True
                        last = full_ladder
                        for m in range(n_levels):
                            if not taken[m]:
                                last = False
                        q = available if last else min(_to_lot(qty0 * level_share[k], lot), available)
                        if q > 0.0:
                            pending_q[k] = q
                            available -= q
                            pending_scale = True
        # signals at the close, acted on at the next open; an entry in the held direction keeps the position
        if qty > 0.0:
            if exit_[j] and entry[j] != direction:
                pending_exit = True
                if pending_scale:  # the exit takes the whole position: the scale-outs are withdrawn
                    pending_scale = False  # and the stop covers the whole position again
                    for k in range(n_levels):
                        pending_q[k] = 0.0
        elif entry[j] == direction and j + 1 < n:
            pending_entry = True
        equity[j] = cash + d * qty * close[j]

    nt_cols = (
        cols[0][:nt], cols[1][:nt], cols[2][:nt], cols[3][:nt], cols[4][:nt], cols[5][:nt],
        cols[6][:nt], cols[7][:nt], cols[8][:nt],
    )
    open_qty = d * qty
    open_entry_i = entry_i if qty > 0.0 else -1
    open_entry_px = entry_px if qty > 0.0 else np.nan
    return nt_cols, equity, open_qty, open_entry_i, open_entry_px, cash
