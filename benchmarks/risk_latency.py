"""Risk evaluation latency: one price update with 1,000 open positions across 100 symbols.

Each update is a new price for one symbol (10 open positions). Timed per update:
the protection state machine of each of the symbol's positions (breakeven, trailing
ladder, scale-outs), the incremental heat book for every stop that moved, the risk gate
for every order the update produces (stop moves and scale-outs, reduce-only) and for one
new entry in that symbol (precision, notional, state, rate, heat over the whole account).
A second measure evaluates a price update of all 100 symbols at once (1,000 positions).

Run: .venv/bin/python benchmarks/risk_latency.py [--updates 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from decimal import Decimal

from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.orders import Order, OrderType, Purpose, Side
from tradeloom.trading.positions import Position
from tradeloom.trading.risk.breakers import BreakerConfig, CircuitBreakers
from tradeloom.trading.risk.gate import GateConfig, RiskLimitsGate
from tradeloom.trading.risk.heat import HeatBook, loss_to_stop
from tradeloom.trading.risk.protection import PositionSide, ProtectionState, round_trip_fee_offset
from tradeloom.trading.risk.protection_rules import ProtectionConfig
from tradeloom.trading.risk_gate import AccountView, OrderRequest

SYMBOLS, PER_SYMBOL = 100, 10
TICK, LOT = Decimal("0.01"), Decimal("0.001")
FEE = Decimal("0.001")
CONFIG = ProtectionConfig()


class Book:
    """The open positions, their protection and heat, and the account view the gate sees."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.instruments = {f"S{i:03d}": Instrument(f"S{i:03d}", InstrumentKind.SPOT, f"S{i:03d}", "USD", TICK, LOT,
                                                   Decimal(10)) for i in range(SYMBOLS)}
        self.prices = {symbol: Decimal(100) for symbol in self.instruments}
        self.positions: dict[str, list[ProtectionState]] = {symbol: [] for symbol in self.instruments}
        self.heat = HeatBook()
        self.ids: dict[ProtectionState, str] = {}
        self.opened = 0
        for symbol in self.instruments:
            for _ in range(PER_SYMBOL):
                self.open(symbol)
        clock = BacktestClock(0)
        self.gate = RiskLimitsGate(GateConfig(max_orders_per_window=0), CircuitBreakers(BreakerConfig(), clock))
        self.account = AccountView(
            0, Decimal(10_000_000), Decimal(10_000_000), Decimal(10_000_000),
            {s: Position(s, "USD", Decimal(10), Decimal(1000)) for s in self.instruments}, dict(self.prices), (),
            {s: Decimal(95) for s in self.instruments},
        )
        self.entries = {s: Order(f"e-{s}", s, Side.BUY, OrderType.MARKET, Decimal(1)) for s in self.instruments}

    def open(self, symbol: str) -> None:
        price = self.prices[symbol]
        side = self.rng.choice((PositionSide.LONG, PositionSide.SHORT))
        risk = price * Decimal(self.rng.randint(10, 50)) / 1000
        stop = (price - side.sign * risk).quantize(TICK)
        state = ProtectionState(CONFIG, side, price, stop, Decimal(self.rng.randint(100, 5000)) * LOT, TICK, LOT,
                                round_trip_fee_offset(side, price, FEE))
        self.positions[symbol].append(state)
        self.opened += 1
        self.ids[state] = f"{symbol}-{self.opened}"
        self.heat.set(self.ids[state], symbol, loss_to_stop(side.sign, price, stop, state.quantity))

    def settle(self, symbol: str) -> None:
        """Outside the timed part: close stopped or fully scaled-out positions and open new ones."""
        price, kept = self.prices[symbol], []
        for state in self.positions[symbol]:
            for level, pending in enumerate(state.pending):
                if pending:
                    state.on_exit_fill(level, pending)
            stopped = (price - state.stop) * state.side.sign <= 0
            if stopped or state.is_closed:
                self.heat.remove(self.ids.pop(state))
            else:
                kept.append(state)
        self.positions[symbol] = kept
        while len(self.positions[symbol]) < PER_SYMBOL:
            self.open(symbol)

    def evaluate(self, symbol: str, price: Decimal, ts: int) -> int:
        """The timed work of one price update; returns the number of gate checks it made."""
        instrument = self.instruments[symbol]
        account = AccountView(ts, self.account.starting_cash, self.account.cash, self.account.equity,
                              self.account.positions, self.account.marks, (), self.account.protective_stops)
        check = self.gate.check
        checks = 0
        for state in self.positions[symbol]:
            decision = state.on_price(price)
            if not (decision.stop_moved or decision.exits):
                continue
            self.heat.set(self.ids[state], symbol,
                          loss_to_stop(state.side.sign, state.entry, decision.stop_price, decision.stop_quantity))
            exit_side = Side.SELL if state.side is PositionSide.LONG else Side.BUY
            for exit_ in decision.exits:
                order = Order(f"x{ts}-{checks}", symbol, exit_side, OrderType.MARKET, exit_.quantity,
                              reduce_only=True, purpose=Purpose.SCALE_OUT)
                check(OrderRequest(order, instrument, price, None), account)
                checks += 1
            if decision.stop_quantity > 0:
                order = Order(f"s{ts}-{checks}", symbol, exit_side, OrderType.STOP_MARKET,
                              min(decision.stop_quantity, Decimal(10)), stop_price=decision.stop_price,
                              reduce_only=True, purpose=Purpose.STOP)
                check(OrderRequest(order, instrument, price, None), account)
                checks += 1
        entry = self.entries[symbol]
        check(OrderRequest(entry, instrument, price, (price * Decimal("0.97")).quantize(TICK)), account)
        return checks + 1


def _percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1000


def main() -> None:
    """Run the benchmark and print the latencies in microseconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--sweeps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    book = Book(rng)
    symbols = list(book.instruments)
    single: list[int] = []
    single_cpu: list[int] = []
    orders = 0
    for n in range(args.updates):
        symbol = symbols[n % SYMBOLS]
        move = Decimal(rng.randint(-150, 160)) / 100
        book.prices[symbol] = max(Decimal(1), book.prices[symbol] + move)
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        orders += book.evaluate(symbol, book.prices[symbol], n * 1_000_000)
        single_cpu.append(time.thread_time_ns() - start_cpu)
        single.append(time.perf_counter_ns() - start)
        book.settle(symbol)
    sweeps: list[int] = []
    for n in range(args.sweeps):
        for symbol in symbols:
            book.prices[symbol] = max(Decimal(1), book.prices[symbol] + Decimal(rng.randint(-150, 160)) / 100)
        start = time.perf_counter_ns()
        for symbol in symbols:
            book.evaluate(symbol, book.prices[symbol], (args.updates + n) * 1_000_000)
        sweeps.append(time.perf_counter_ns() - start)
        for symbol in symbols:
            book.settle(symbol)
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'})")
    print(f"open positions {sum(len(p) for p in book.positions.values())} across {SYMBOLS} symbols; "
          f"heat {book.heat.total:.2f} over {len(book.heat)} positions")
    print(f"one symbol's price update ({PER_SYMBOL} positions, {orders / args.updates:.1f} gate checks each), "
          f"{args.updates} updates: p50 {_percentile(single, 0.5):.1f} us, p99 {_percentile(single, 0.99):.1f} us, "
          f"max {max(single) / 1000:.1f} us, mean {statistics.fmean(single) / 1000:.1f} us")
    print(f"  the same in CPU time of the thread (excludes time the OS gave to other processes): "
          f"p50 {_percentile(single_cpu, 0.5):.1f} us, p99 {_percentile(single_cpu, 0.99):.1f} us")
    print(f"load average during the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cpus")
    print(f"all {SYMBOLS} symbols at once ({SYMBOLS * PER_SYMBOL} positions, {SYMBOLS} entry checks), "
          f"{args.sweeps} sweeps: p50 {_percentile(sweeps, 0.5):.1f} us, p99 {_percentile(sweeps, 0.99):.1f} us")


if __name__ == "__main__":
    main()
