"""backtrader on the benchmark's rules, with cheat-on-open so the stop and target rest from the entry bar on.

At each close ``next`` notes the SMA(10)/SMA(50) cross. At the next bar, ``next_open`` sees
that bar's open before the broker does: it sends the cross-down exit (market, fills at the
open) or the entry (market, one unit) with a sell stop at open*0.98 and a sell limit at
open*1.04, linked one-cancels-other. The broker looks at them in the order sent, so the
stop comes before the target in a bar that touches both; a gap fills at the open.
"""

from __future__ import annotations

import time

import backtrader as bt
import numpy as np
import pandas as pd

STOP, TARGET, FEE, CASH, SIZE = 0.02, 0.04, 0.001, 100_000.0, 1.0


class SmaCrossBracket(bt.Strategy):
    """Long-only SMA cross with a stop and target placed at the entry bar's open."""

    params = dict(fast=10, slow=50)

    def __init__(self) -> None:
        self.cross = bt.ind.CrossOver(bt.ind.SMA(self.data.close, period=self.p.fast),
                                      bt.ind.SMA(self.data.close, period=self.p.slow))
        self.want_entry = self.want_exit = False
        self.exits: list[bt.Order] = []
        self.round_trips: list[tuple[int, int, float, float]] = []
        self._entry: tuple[int, float] | None = None

    def next(self) -> None:
        self.want_entry = self.cross[0] > 0
        self.want_exit = self.cross[0] < 0

    def next_open(self) -> None:
        if self.position.size > 0 and self.want_exit:
            for order in self.exits:
                self.cancel(order)
            self.exits = []
            self.close()
        elif self.position.size == 0 and self.want_entry:
            price = self.data.open[0]
            self.buy(size=SIZE)
            stop = self.sell(size=SIZE, exectype=bt.Order.Stop, price=price * (1 - STOP))
            target = self.sell(size=SIZE, exectype=bt.Order.Limit, price=price * (1 + TARGET), oco=stop)
            self.exits = [stop, target]
        self.want_entry = self.want_exit = False

    def notify_order(self, order: bt.Order) -> None:
        if order.status != order.Completed:
            return
        bar = len(self.data) - 1
        if order.isbuy():
            self._entry = (bar, order.executed.price)
        elif self._entry is not None:
            self.round_trips.append((self._entry[0], bar, self._entry[1], order.executed.price))
            self._entry = None
            self.exits = []


def run(bars: dict[str, np.ndarray], n: int) -> tuple[float, dict]:
    """Run the first ``n`` bars; returns the wall time of cerebro.run and the result."""
    frame = pd.DataFrame({k: bars[k][:n] for k in ("open", "high", "low", "close", "volume")},
                         index=pd.to_datetime(bars["ts"][:n], utc=True).tz_localize(None))
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(SmaCrossBracket)
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=FEE)
    start = time.perf_counter()
    strategy = cerebro.run()[0]
    elapsed = time.perf_counter() - start
    trips = np.array(strategy.round_trips, dtype=np.float64).reshape(-1, 4)
    return elapsed, {
        "closed": len(trips),
        "open": int(strategy.position.size > 0),
        "final_equity": cerebro.broker.getvalue(),
        "entry_index": trips[:, 0].astype(np.int64),
        "exit_index": trips[:, 1].astype(np.int64),
        "entry_price": trips[:, 2],
        "exit_price": trips[:, 3],
    }
