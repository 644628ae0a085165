"""vectorbt on the benchmark's rules: from_signals (Rust and Numba engines) and an exact from_order_func.

The rules: a cross at bar t's close acts at t+1's open; one unit; stop 2% under the entry and
target 4% over it, checked from the entry bar on, the stop first, a gap filling at the open;
a cross down exits at the next open; 0.1% fee a side.

``from_signals`` is vectorbt's fastest engine. With the signals shifted one bar, ``price=open``,
``stop_entry_price='price'`` and ``stop_exit_price='stoplimit'`` it comes closest, but it puts
one order per bar, so (a) it looks at the stops only from the bar after the entry, and (b) on
the bar where a cross-down exit fills at the open it lets a stop touched later in that bar
win. ``adjust_sl_func_nb``/``adjust_tp_func_nb`` remove (b) (Numba engine only: Rust takes no
callbacks); (a) stays. ``from_order_func(flexible=True)`` places several orders a bar and
reproduces the rules exactly.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import vectorbt as vbt
from numba import njit
from vectorbt.portfolio import nb as pnb
from vectorbt.portfolio.enums import NoOrder

STOP, TARGET, FEE, CASH, SIZE = 0.02, 0.04, 0.001, 100_000.0, 1.0


def crosses(close: np.ndarray, fast: int = 10, slow: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Cross-up and cross-down flags at each close, from vectorbt's own moving averages."""
    f = vbt.MA.run(close, fast).ma.to_numpy()
    s = vbt.MA.run(close, slow).ma.to_numpy()
    up = np.zeros(len(close), np.bool_)
    down = np.zeros(len(close), np.bool_)
    up[1:] = (f[1:] > s[1:]) & (f[:-1] <= s[:-1])
    down[1:] = (f[1:] < s[1:]) & (f[:-1] >= s[:-1])
    return up, down


def _next_bar(flags: np.ndarray) -> np.ndarray:
    out = np.zeros_like(flags)
    out[1:] = flags[:-1]
    return out


@njit(cache=True)
def _no_stop_on_exit_bar_sl(c, exits):
    if exits[c.i]:
        return np.nan, False
    return c.curr_stop, c.curr_trail


@njit(cache=True)
def _no_stop_on_exit_bar_tp(c, exits):
    if exits[c.i]:
        return np.nan
    return c.curr_stop


def from_signals(o, h, lo, c, up, down, engine: str, exit_first: bool = False) -> Any:
    """Portfolio.from_signals with the closest configuration; ``exit_first`` adds the adjust callbacks."""
    entries, exits = _next_bar(up), _next_bar(down)
    extra: dict[str, Any] = {}
    if exit_first:
        extra = dict(adjust_sl_func_nb=_no_stop_on_exit_bar_sl, adjust_sl_args=(exits,),
                     adjust_tp_func_nb=_no_stop_on_exit_bar_tp, adjust_tp_args=(exits,))
    return vbt.Portfolio.from_signals(
        c, entries, exits, price=o, open=o, high=h, low=lo, sl_stop=STOP, tp_stop=TARGET,
        stop_entry_price="price", stop_exit_price="stoplimit", size=SIZE, init_cash=CASH, fees=FEE,
        direction="longonly", engine=engine, **extra,
    )


@njit(cache=True)
def _exact_order_func(c, o, h, lo, up, down, state):
    # state: pending entry, pending exit, stop, target, step within the bar
    i = c.i
    n = len(o)
    if c.call_idx == 0:
        state[4] = 0.0
    while True:
        position = c.last_position[0]
        step = state[4]
        state[4] += 1.0
        if step == 0.0:  # the cross-down exit sent at the last close fills at this open
            pending = state[1] == 1.0
            state[1] = 0.0
            if pending and position > 0.0:
                return 0, pnb.order_nb(size=-position, price=o[i], fees=FEE)
        elif step == 1.0:  # then the entry sent at the last close
            pending = state[0] == 1.0
            state[0] = 0.0
            if pending and position == 0.0:
                state[2] = o[i] * (1.0 - STOP)
                state[3] = o[i] * (1.0 + TARGET)
                return 0, pnb.order_nb(size=SIZE, price=o[i], fees=FEE)
        elif step == 2.0:  # the stop first, then the target; a gap fills at the open
            if position > 0.0:
                price = np.nan
                if o[i] <= state[2]:
                    price = o[i]
                elif lo[i] <= state[2]:
                    price = state[2]
                elif o[i] >= state[3]:
                    price = o[i]
                elif h[i] >= state[3]:
                    price = state[3]
                if not np.isnan(price):
                    return 0, pnb.order_nb(size=-position, price=price, fees=FEE)
        else:  # the close: read this bar's cross for the next open
            if i + 1 < n:
                if position > 0.0:
                    if down[i]:
                        state[1] = 1.0
                elif up[i]:
                    state[0] = 1.0
            return -1, NoOrder


def from_order_func(o, h, lo, c, up, down) -> Any:
    """Portfolio.from_order_func(flexible=True) with the exact rules (Numba engine)."""
    state = np.zeros(5)
    return vbt.Portfolio.from_order_func(
        c, _exact_order_func, o, h, lo, up, down, state, flexible=True, init_cash=CASH,
        max_orders=2 * int(up.sum()) + 2,
    )


def trades_of(pf: Any) -> dict[str, np.ndarray]:
    """Round trips of a portfolio (closed and open), as arrays."""
    rec = pf.trades.values
    return {
        "entry_index": rec["entry_idx"], "exit_index": rec["exit_idx"], "entry_price": rec["entry_price"],
        "exit_price": rec["exit_price"], "quantity": rec["size"], "closed": rec["status"] == 1,
    }


def timed(run, repeats: int) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls (after one warm-up call) and the last result."""
    result = run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result
