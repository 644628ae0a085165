"""A plain-Python reference (no tests here; imported by the fast-path tests) of the fast path's rules.

Written as a venue with orders: a resting protective stop, an optional resting take-profit, and
market orders sent at a close that fill at the next open (scale-outs, a signal exit, an entry).
At an open, resting orders the open gapped through go first (the stop covers what is not being
scaled out), then the market orders in the order sent. Within the bar the stop is looked at
before the target; the target (a limit) fills only when price trades strictly through it.
Position management (breakeven, trailing ladder, scale-out levels) looks at the bar's best
price at the close. Deliberately independent of the kernel's code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tradeloom.trading.fastpath import FastPolicy

REASON_CODES = {"stop": 1, "breakeven": 2, "trailing": 3, "take_profit": 4, "signal": 5}


@dataclass
class RefPosition:
    number: int
    entry_index: int
    entry_price: float
    quantity: float
    remaining: float
    entry_fee: float
    stop: float
    stop_code: int
    risk: float
    target: float | None
    level_distances: list[float]
    best: float = 0.0
    taken: set[int] = field(default_factory=set)
    market_orders: list[tuple[int, float]] = field(default_factory=list)  # (reason code, quantity)


def _grid(steps: int, step: float) -> float:
    per_unit = round(1 / step)
    if per_unit >= 1 and abs(1 / step - per_unit) < 1e-9 * per_unit:
        return steps / per_unit  # the float nearest the decimal value
    return steps * step


def _round_tick(price: float, tick: float, up: bool) -> float:
    if tick <= 0:
        return price
    steps = price / tick
    if abs(steps - round(steps)) < max(1e-9, 1e-13 * abs(steps)):
        steps = round(steps)
    return _grid(math.ceil(steps) if up else math.floor(steps), tick)


def _round_lot(quantity: float, lot: float) -> float:
    if lot <= 0:
        return quantity
    steps = quantity / lot
    if abs(steps - round(steps)) < max(1e-9, 1e-13 * abs(steps)):
        steps = round(steps)
    return _grid(math.floor(steps), lot)


def reference_backtest(open_, high, low, close, entry, exit_, policy: FastPolicy):
    """Returns (trade rows as tuples in TRADE_DTYPE order, equity list, cash)."""
    side = policy.direction
    fee = policy.fee_pct / 100
    cash = policy.cash
    rows: list[tuple] = []
    equity: list[float] = []
    pos: RefPosition | None = None
    count = 0
    send_entry = send_exit = False

    def fill(p: RefPosition, j: int, price: float, qty: float, code: int) -> None:
        nonlocal cash
        exit_fee = qty * price * fee
        cash += side * qty * price - exit_fee
        rows.append((p.number, p.entry_index, j, p.entry_price, price, qty, code,
                     p.entry_fee * qty / p.quantity, exit_fee))
        p.remaining -= qty
        if p.remaining <= 1e-12 * p.quantity:
            p.remaining = 0.0

    def through(price: float, level: float) -> bool:  # price at or beyond level in the position's favour
        return (price - level) * side >= 0

    def hits_stop(price: float, stop: float) -> bool:  # touching a stop is enough
        return (price - stop) * side <= 0

    def beyond(price: float, level: float) -> bool:  # strictly past a resting limit, as the venue fills it
        return (price - level) * side > 0

    for j in range(len(close)):
        if pos is not None:
            scaling = sum(q for code, q in pos.market_orders if code >= 10)
            if hits_stop(open_[j], pos.stop):  # opened at or through the stop
                stop_qty = pos.remaining - scaling
                fill(pos, j, open_[j], stop_qty if stop_qty > 1e-12 * pos.quantity else pos.remaining, pos.stop_code)
            elif pos.target is not None and beyond(open_[j], pos.target):
                fill(pos, j, open_[j], pos.remaining, REASON_CODES["take_profit"])
            for code, qty in pos.market_orders:
                if pos.remaining > 0 and qty > 0:
                    fill(pos, j, open_[j], min(qty, pos.remaining), code)
            pos.market_orders.clear()
            if send_exit and pos.remaining > 0:
                fill(pos, j, open_[j], pos.remaining, REASON_CODES["signal"])
            if pos.remaining == 0:
                pos = None
        send_exit = False
        if send_entry:
            price = open_[j]
            if policy.stop_basis == "signal_close":
                stop = _round_tick(price - side * close[j - 1] * policy.stop_pct / 100, policy.tick_size, side < 0)
            else:
                stop = _round_tick(price * (1 - side * policy.stop_pct / 100), policy.tick_size, side > 0)
            target = None
            if policy.take_profit_pct:
                target = _round_tick(price * (1 + side * policy.take_profit_pct / 100), policy.tick_size, side > 0)
            risk = (price - stop) * side
            distances = [price * t / 100 if policy.scale_outs_in_percent else t * risk for t, _ in policy.scale_outs]
            entry_fee = policy.size * price * fee
            cash -= side * policy.size * price + entry_fee
            pos = RefPosition(count, j, price, policy.size, policy.size, entry_fee, stop, REASON_CODES["stop"],
                              risk, target, distances)
            count += 1
        send_entry = False

        if pos is not None:
            adverse, favourable = (low[j], high[j]) if side > 0 else (high[j], low[j])
            if hits_stop(adverse, pos.stop):
                fill(pos, j, pos.stop, pos.remaining, pos.stop_code)
            elif pos.target is not None and beyond(favourable, pos.target):
                fill(pos, j, pos.target, pos.remaining, REASON_CODES["take_profit"])
            if pos.remaining == 0:
                pos = None
        if pos is not None:
            reached = (favourable - pos.entry_price) * side
            if reached > pos.best:
                pos.best = reached
                tie = 1e-12 * pos.entry_price  # a level reached exactly on the tick grid counts
                if policy.breakeven_r and reached >= policy.breakeven_r * pos.risk - tie:
                    offset = 2 * pos.entry_price * fee / ((1 - fee) if side > 0 else (1 + fee))
                    moved = _round_tick(pos.entry_price + side * offset, policy.tick_size, side > 0)
                    if (favourable - moved) * side <= tie:
                        moved = pos.entry_price
                    if (moved - pos.stop) * side > 0:
                        pos.stop, pos.stop_code = moved, REASON_CODES["breakeven"]
                rungs = [r for r in policy.trailing if reached >= r[0] * pos.risk - tie]
                if rungs:
                    moved = _round_tick(pos.entry_price + side * (reached - rungs[-1][1] * pos.risk),
                                        policy.tick_size, side < 0)
                    if (moved - pos.stop) * side > 0:
                        pos.stop, pos.stop_code = moved, REASON_CODES["trailing"]
                free = pos.remaining - sum(q for _, q in pos.market_orders)
                full = abs(sum(s for _, s in policy.scale_outs) - 100) < 1e-9
                for k, (distance, (_, share)) in enumerate(zip(pos.level_distances, policy.scale_outs)):
                    if k in pos.taken or reached < distance - tie:
                        continue
                    pos.taken.add(k)
                    if full and len(pos.taken) == len(policy.scale_outs):
                        qty = free
                    else:
                        qty = min(_round_lot(pos.quantity * share / 100, policy.lot_size), free)
                    if qty > 0:
                        pos.market_orders.append((10 + k, qty))
                        free -= qty
        last = j == len(close) - 1
        if pos is not None:
            send_exit = bool(exit_[j]) and int(entry[j]) != side
            if send_exit:
                pos.market_orders.clear()  # the exit takes everything instead; the stop covers it all again
        else:
            send_entry = int(entry[j]) == side and not last
        equity.append(cash + (side * pos.remaining * close[j] if pos is not None else 0.0))
    return rows, equity, cash
