"""The compiled bar loop: one position at a time, fixed stop/target or the full R-based protection.

Semantics, per bar ``j`` (a long; a short is the mirror image, high and low swapped):

1. Orders sent at the previous close fill at this bar's open: a signal exit first, then an entry.
   An entry sets the initial stop ``entry * (1 - stop_frac)`` (R = entry - stop), the optional
   take-profit ``entry * (1 + tp_frac)`` and the scale-out levels; all rest from this bar on.
2. The adverse extreme comes first (open, low, high, close): the stop fills the whole remainder
   at the open if the open is at or through it, else at the stop price if the low touches it.
3. Then the favourable resting exits, nearest first: each scale-out level and the take-profit
   fill at the open if the open gapped through them, else at their price if the high touches it.
4. At the close, position management sees the bar: the best price (high-water mark) moves,
   the stop moves to breakeven (entry plus round-trip fees) once the best price is ``be_r`` R
   away, then trails the best price by the highest reached rung of the ladder; it never loosens.
   Then the bar's signals are read: an exit (when holding) or an entry in ``direction`` (when
   flat) is sent for the next open. An entry in the held direction changes nothing.

Every fill pays ``fee_frac`` of its notional. Cash, position and equity are float64.
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

_SNAP = 1e-9


@njit(cache=True, inline="always")
def _to_tick(price: float, tick: float, up: bool) -> float:
    if tick <= 0.0:
        return price
    steps = price / tick
    nearest = np.round(steps)
    if abs(steps - nearest) < _SNAP:
        steps = nearest
    return (np.ceil(steps) if up else np.floor(steps)) * tick


@njit(cache=True, inline="always")
def _to_lot(quantity: float, lot: float) -> float:
    if lot <= 0.0:
        return quantity
    steps = quantity / lot
    nearest = np.round(steps)
    if abs(steps - nearest) < _SNAP:
        steps = nearest
    return np.floor(steps) * lot


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
    """Run the bar loop; returns (trade columns, n_trades, equity, open quantity, open entry index/price, cash)."""
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
    level_px = np.empty(n_levels, np.float64)
    taken = np.zeros(n_levels, np.bool_)

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

    for j in range(n):
        o = open_[j]
        # 1. orders sent at the previous close fill at this open
        if pending_exit:
            fee = qty * o * fee_frac
            cash += d * qty * o - fee
            nt = _record(cols, nt, n_pos - 1, entry_i, j, entry_px, o, qty, REASON_SIGNAL, entry_fee * qty / qty0, fee)
            qty = 0.0
            pending_exit = False
        if pending_entry:
            entry_px = o
            entry_i = j
            qty0 = size
            qty = size
            entry_fee = size * o * fee_frac
            cash -= d * size * o + entry_fee
            stop = _to_tick(o * (1.0 - d * stop_frac), tick, d < 0.0)
            stop_reason = REASON_STOP
            r = d * (o - stop)
            tp = o * (1.0 + d * tp_frac) if tp_frac > 0.0 else np.nan
            best = 0.0
            if d > 0.0:
                be_offset = 2.0 * o * fee_frac / (1.0 - fee_frac)
            else:
                be_offset = 2.0 * o * fee_frac / (1.0 + fee_frac)
            for k in range(n_levels):
                dist = o * level_trigger[k] / 100.0 if level_in_percent else level_trigger[k] * r
                level_px[k] = o + d * dist
                taken[k] = False
            n_pos += 1
            pending_entry = False

        if qty > 0.0:
            favourable = high[j] if d > 0.0 else low[j]
            adverse = low[j] if d > 0.0 else high[j]
            # 2. the stop, adverse extreme first
            fill = np.nan
            if d * (o - stop) <= 0.0:
                fill = o
            elif d * (adverse - stop) <= 0.0:
                fill = stop
            if not np.isnan(fill):
                fee = qty * fill * fee_frac
                cash += d * qty * fill - fee
                nt = _record(cols, nt, n_pos - 1, entry_i, j, entry_px, fill, qty, stop_reason, entry_fee * qty / qty0, fee)
                qty = 0.0
            else:
                # 3. favourable resting exits, nearest first; the target closes what is left
                for k in range(n_levels + 1):
                    if qty <= 0.0:
                        break
                    if k < n_levels and taken[k]:
                        continue
                    use_tp = not np.isnan(tp) and (k == n_levels or d * (tp - level_px[k]) < 0.0)
                    if k == n_levels and not use_tp:
                        break
                    px = tp if use_tp else level_px[k]
                    if d * (favourable - px) < 0.0:
                        break  # not reached; nothing further away is either
                    fill = o if d * (o - px) >= 0.0 else px
                    if use_tp:
                        q = qty
                        reason = REASON_TAKE_PROFIT
                    else:
                        taken[k] = True
                        last = full_ladder
                        for m in range(n_levels):
                            if not taken[m]:
                                last = False
                        q = qty if last else min(_to_lot(qty0 * level_share[k], lot), qty)
                        reason = REASON_SCALE_OUT + k
                    if q > 0.0:
                        fee = q * fill * fee_frac
                        cash += d * q * fill - fee
                        nt = _record(cols, nt, n_pos - 1, entry_i, j, entry_px, fill, q, reason, entry_fee * q / qty0, fee)
                        qty -= q
                        if qty <= 1e-12 * qty0:
                            qty = 0.0
                    if use_tp:
                        qty = 0.0
                # 4. position management at the close
                if qty > 0.0:
                    dist = d * (favourable - entry_px)
                    if dist > best:
                        best = dist
                        if be_r > 0.0 and best >= be_r * r:
                            cand = _to_tick(entry_px + d * be_offset, tick, d > 0.0)
                            if d * (favourable - cand) <= 0.0:
                                cand = entry_px
                            if d * (cand - stop) > 0.0:
                                stop = cand
                                stop_reason = REASON_BREAKEVEN
                        for s in range(n_steps - 1, -1, -1):
                            if best >= trail_from_r[s] * r:
                                cand = _to_tick(entry_px + d * (best - trail_by_r[s] * r), tick, d < 0.0)
                                if d * (cand - stop) > 0.0:
                                    stop = cand
                                    stop_reason = REASON_TRAILING
                                break
        # signals at the close, acted on at the next open; an entry in the held direction keeps the position
        if qty > 0.0:
            if exit_[j] and entry[j] != direction:
                pending_exit = j + 1 < n
        elif entry[j] == direction:
            pending_entry = j + 1 < n
        equity[j] = cash + d * qty * close[j]

    nt_cols = (
        cols[0][:nt], cols[1][:nt], cols[2][:nt], cols[3][:nt], cols[4][:nt], cols[5][:nt],
        cols[6][:nt], cols[7][:nt], cols[8][:nt],
    )
    open_qty = d * qty
    open_entry_i = entry_i if qty > 0.0 else -1
    open_entry_px = entry_px if qty > 0.0 else np.nan
    return nt_cols, equity, open_qty, open_entry_i, open_entry_px, cash
