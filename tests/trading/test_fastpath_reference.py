"""A plain-Python reference (no tests here; imported by the fast-path tests) of the fast path's rules, written as resting orders walked along each bar's path.

Orders rest at the venue: one protective stop for the whole remainder and limit exits
(scale-out levels, the take-profit). The stop is looked at first, along open -> adverse
extreme, so a bar that touches it stops out even when its open gapped through a limit; then
the limits along open -> favourable extreme. Either fills at the open when the open is
through it, else at its own price. Position management runs at the close.
Deliberately independent of the kernel's code: objects and lists, no shared helpers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tradeloom.trading.fastpath import FastPolicy

REASON_CODES = {"stop": 1, "breakeven": 2, "trailing": 3, "take_profit": 4, "signal": 5}


@dataclass
class LimitExit:
    price: float
    share: float  # of the initial quantity; None-like 0 means "all that is left"
    code: int
    level: int | None


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
    best: float = 0.0
    exits: list[LimitExit] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)


def _round_tick(price: float, tick: float, up: bool) -> float:
    if tick <= 0:
        return price
    steps = price / tick
    if abs(steps - round(steps)) < 1e-9:
        steps = round(steps)
    return (math.ceil(steps) if up else math.floor(steps)) * tick


def _round_lot(quantity: float, lot: float) -> float:
    if lot <= 0:
        return quantity
    steps = quantity / lot
    if abs(steps - round(steps)) < 1e-9:
        steps = round(steps)
    return math.floor(steps) * lot


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

    def close_part(p: RefPosition, j: int, price: float, qty: float, code: int) -> None:
        nonlocal cash
        exit_fee = qty * price * fee
        cash += side * qty * price - exit_fee
        rows.append((p.number, p.entry_index, j, p.entry_price, price, qty, code,
                     p.entry_fee * qty / p.quantity, exit_fee))
        p.remaining -= qty
        if p.remaining <= 1e-12 * p.quantity:
            p.remaining = 0.0

    def better_or_equal(a: float, b: float) -> bool:  # a at least as favourable as b for the position
        return (a - b) * side >= 0

    for j in range(len(close)):
        if send_exit and pos is not None:
            close_part(pos, j, open_[j], pos.remaining, REASON_CODES["signal"])
            pos = None
        send_exit = False
        if send_entry:
            price = open_[j]
            stop = _round_tick(price * (1 - side * policy.stop_pct / 100), policy.tick_size, side < 0)
            entry_fee = policy.size * price * fee
            cash -= side * policy.size * price + entry_fee
            pos = RefPosition(count, j, price, policy.size, policy.size, entry_fee, stop, REASON_CODES["stop"],
                              abs(price - stop))
            count += 1
            for k, (trigger, share) in enumerate(policy.scale_outs):
                distance = price * trigger / 100 if policy.scale_outs_in_percent else trigger * pos.risk
                pos.exits.append(LimitExit(price + side * distance, share / 100, 10 + k, k))
            if policy.take_profit_pct:
                pos.exits.append(LimitExit(price * (1 + side * policy.take_profit_pct / 100), 0.0, 4, None))
            # nearest first; at equal prices a scale-out comes before the target
            pos.exits.sort(key=lambda e: (side * e.price, e.level is None))
        send_entry = False

        if pos is not None:
            adverse, favourable = (low[j], high[j]) if side > 0 else (high[j], low[j])
            # the stop first: whenever the bar touches it, even if the open gapped through a limit
            for point, price in enumerate((open_[j], adverse)):
                if pos is not None and (price - pos.stop) * side <= 0:
                    close_part(pos, j, open_[j] if point == 0 else pos.stop, pos.remaining, pos.stop_code)
                    pos = None
            for point, price in enumerate((open_[j], favourable)):
                if pos is None:
                    break
                for limit in list(pos.exits):
                    if not better_or_equal(price, limit.price):
                        break
                    pos.exits.remove(limit)
                    fill = open_[j] if point == 0 else limit.price
                    if limit.level is None:
                        close_part(pos, j, fill, pos.remaining, limit.code)
                    else:
                        pos.taken.add(limit.level)
                        everything = (len(pos.taken) == len(policy.scale_outs)
                                      and abs(sum(s for _, s in policy.scale_outs) - 100) < 1e-9)
                        qty = pos.remaining if everything else min(
                            _round_lot(pos.quantity * limit.share, policy.lot_size), pos.remaining)
                        if qty > 0:
                            close_part(pos, j, fill, qty, limit.code)
                    if pos.remaining == 0:
                        pos = None
                        break
            if pos is not None:
                reached = (favourable - pos.entry_price) * side
                if reached > pos.best:
                    pos.best = reached
                    if policy.breakeven_r and reached >= policy.breakeven_r * pos.risk:
                        offset = 2 * pos.entry_price * fee / ((1 - fee) if side > 0 else (1 + fee))
                        target = _round_tick(pos.entry_price + side * offset, policy.tick_size, side > 0)
                        if (favourable - target) * side <= 0:
                            target = pos.entry_price
                        if (target - pos.stop) * side > 0:
                            pos.stop, pos.stop_code = target, REASON_CODES["breakeven"]
                    rungs = [r for r in policy.trailing if reached >= r[0] * pos.risk]
                    if rungs:
                        trail = rungs[-1][1] * pos.risk
                        target = _round_tick(pos.entry_price + side * (reached - trail), policy.tick_size, side < 0)
                        if (target - pos.stop) * side > 0:
                            pos.stop, pos.stop_code = target, REASON_CODES["trailing"]
        last = j == len(close) - 1
        if pos is not None:
            send_exit = bool(exit_[j]) and int(entry[j]) != side and not last
        else:
            send_entry = int(entry[j]) == side and not last
        equity.append(cash + (side * pos.remaining * close[j] if pos is not None else 0.0))
    return rows, equity, cash
