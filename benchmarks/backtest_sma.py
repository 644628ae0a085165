"""Backtest speed: tradeloom's fast path and engine against vectorbt and backtrader on one SMA-cross job.

Run (after ``bash benchmarks/setup.sh``):

    benchmarks/.venv/bin/python benchmarks/backtest_sma.py                     # fixed 2% stop / 4% target
    benchmarks/.venv/bin/python benchmarks/backtest_sma.py --policy protection # full protection policy

The work: 1,000,000 one-minute bars of a seeded random walk; long-only SMA(10)/SMA(50) cross
on the close; entry at the next open after a cross up, one unit, cash 100,000; stop 2% under
the entry and target 4% over it from the entry bar on, the stop first, a gap filling at the
open; else exit at the next open after a cross down; 0.1% fee a side.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_backtrader  # noqa: E402
import bench_vectorbt  # noqa: E402
import run_tradeloom  # noqa: E402
import walk_data  # noqa: E402

from tradeloom.trading.backtest import run_backtest  # noqa: E402
from tradeloom.trading.fastpath import run_fast  # noqa: E402
from tradeloom.trading.instrument import Instrument  # noqa: E402
from tradeloom.trading.policy import FixedStopTakeProfit  # noqa: E402
from tradeloom.trading.risk.config import RiskConfig  # noqa: E402
from tradeloom.trading.risk.protection_policy import ProtectionPolicy  # noqa: E402
from tradeloom.trading.simulated import VenueConfig  # noqa: E402
from tradeloom.trading.simulated.fees import FeeSchedule  # noqa: E402
from tradeloom.trading.strategies.sma_cross import SmaCross  # noqa: E402


def rate(bars: int, seconds: float) -> str:
    return f"{bars / seconds:>14,.0f} bars/s  ({seconds * 1000:,.1f} ms)"


def best_of(run, repeats: int) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls after one warm-up call, and the last result."""
    return bench_vectorbt.timed(run, repeats)


def round_trips(entry_index, exit_index, entry_price, exit_price) -> list[tuple[int, int, float, float]]:
    return list(zip(np.asarray(entry_index).tolist(), np.asarray(exit_index).tolist(),
                    np.asarray(entry_price).tolist(), np.asarray(exit_price).tolist()))


def same_trades(ours: list, theirs: list, price_tol: float = 1e-9) -> str:
    """'identical' or how many round trips differ, and the first one that does."""
    bad = [i for i, (a, b) in enumerate(zip(ours, theirs))
           if a[:2] != b[:2] or abs(a[2] - b[2]) > price_tol * a[2] or abs(a[3] - b[3]) > price_tol * a[3]]
    if not bad and len(ours) == len(theirs):
        return "identical"
    first = f"; first at #{bad[0]}: ours {ours[bad[0]]} theirs {theirs[bad[0]]}" if bad else ""
    return f"{len(bad)} of {min(len(ours), len(theirs))} differ, counts {len(ours)} vs {len(theirs)}{first}"


def equity_agreement(ours: float, theirs: float) -> str:
    diff = theirs - ours
    return f"{theirs:,.6f} (diff {diff:+.6f}, {abs(diff) / ours:.2e} of equity, {'within' if abs(diff) / ours <= 1e-4 else 'OUTSIDE'} 0.01%)"


def cold_runs(script: str, path: Path, runs: int, *extra: str) -> list[float]:
    """Wall time of ``runs`` fresh interpreter processes running ``script`` (imports and all)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / script), str(path), *extra], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def engine_run(bars, policy_name: str) -> tuple[float, object]:
    """tradeloom's event-by-event engine (run_backtest with a SimulatedVenue) on ``bars``."""
    instrument = Instrument("WALK", "spot", "WLK", "USD", Decimal("0.000001"), Decimal("0.0001"))
    if policy_name == "fixed":
        policy = FixedStopTakeProfit(Decimal(2), Decimal(4), Decimal(1))
    else:
        policy = ProtectionPolicy(RiskConfig(), Decimal(2), Decimal("0.001"), fixed_quantity=Decimal(1))
    venue = VenueConfig(fees=FeeSchedule.percent("0.1", "0.1"))
    start = time.perf_counter()
    result = run_backtest(SmaCross({"fast": 10, "slow": 50}), bars, instrument, venue, policy, 100_000)
    return time.perf_counter() - start, result


def engine_rows(result, ts: np.ndarray) -> list[tuple]:
    return [(int(np.searchsorted(ts, t.entry_ts, "right")) - 1, int(np.searchsorted(ts, t.exit_ts, "right")) - 1,
             float(t.entry_price), float(t.exit_price), float(t.quantity), t.exit_reason) for t in result.trades]


def fast_rows(result) -> list[tuple]:
    t = result.trades
    return [(int(a), int(b), float(c), float(d), float(q), result.reason_label(int(r)))
            for a, b, c, d, q, r in zip(t["entry_index"], t["exit_index"], t["entry_price"], t["exit_price"],
                                        t["quantity"], t["reason"])]


def compare_rows(fast: list[tuple], engine: list[tuple]) -> str:
    bad = [i for i, (a, b) in enumerate(zip(fast, engine))
           if a[:2] != b[:2] or a[5] != b[5] or not np.allclose(a[2:5], b[2:5], rtol=0, atol=1e-9)]
    if not bad and len(fast) == len(engine):
        return f"identical, trade for trade ({len(fast)} exit fills: index, price, quantity, reason)"
    first = f"; first at #{bad[0]}: fast {fast[bad[0]]} engine {engine[bad[0]]}" if bad else ""
    return f"{len(bad)} differ, counts {len(fast)} vs {len(engine)}{first}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bt-bars", type=int, default=100_000, help="backtrader's prefix")
    parser.add_argument("--engine-bars", type=int, default=None, help="the event engine's prefix (default: all)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--policy", choices=("fixed", "protection"), default="fixed")
    args = parser.parse_args()

    path = walk_data.walk_file(args.bars, args.seed)
    print(f"data: {path.name}, {args.bars:,} one-minute bars, seed {args.seed}; policy {args.policy}")
    with open("/proc/loadavg") as f:
        print(f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
              f"load average at start {f.read().split()[0]}")

    if args.policy == "protection":
        protection_mode(path, args)
        return

    # -- tradeloom fast path, warm (numba cache loaded) ------------------------------------
    run_tradeloom.whole_run(path)
    whole = min((run_tradeloom.whole_run(path) for _ in range(args.repeats)), key=lambda r: r["seconds"])
    bars = run_tradeloom.load_bars(path)
    signals = SmaCross({"fast": 10, "slow": 50}).signals(bars)
    policy = run_tradeloom.policy_for("fixed")
    sim_s, ours = best_of(lambda: run_fast(bars, signals, policy), args.repeats)
    n = len(bars)
    print("\n## tradeloom fast path (warm, best of %d)" % args.repeats)
    print(f"whole run (load, indicators+signals, simulation, metrics): {rate(n, whole['seconds'])}")
    print("  phases: " + ", ".join(f"{k} {whole[k + '_s'] * 1000:,.1f} ms" for k in ("load", "signals", "simulation", "metrics")))
    print(f"simulation alone (run_fast, input checks included):        {rate(n, sim_s)}")
    print(f"trades: {ours.positions_closed} closed + {int(ours.open_entry_index >= 0)} open; "
          f"final equity {ours.final_equity:,.6f}; exits {ours.exits_by_reason()}")
    our_trips = round_trips(ours.trades["entry_index"], ours.trades["exit_index"], ours.trades["entry_price"],
                            ours.trades["exit_price"])

    # -- vectorbt ----------------------------------------------------------------------------
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close
    up, down = bench_vectorbt.crosses(c)
    print("\n## vectorbt %s (simulation alone, best of %d; signals precomputed)" % (
        bench_vectorbt.vbt.__version__, args.repeats))
    variants = [
        ("from_signals, Rust engine", lambda: bench_vectorbt.from_signals(o, h, lo, c, up, down, "rust")),
        ("from_signals, Numba engine", lambda: bench_vectorbt.from_signals(o, h, lo, c, up, down, "numba")),
        ("from_signals + adjust callbacks, Numba", lambda: bench_vectorbt.from_signals(o, h, lo, c, up, down, "numba", True)),
        ("from_order_func flexible (exact rules), Numba", lambda: bench_vectorbt.from_order_func(o, h, lo, c, up, down)),
    ]
    fastest = None
    for label, run in variants:
        seconds, pf = best_of(run, args.repeats)
        trades = bench_vectorbt.trades_of(pf)
        closed = trades["closed"]
        trips = round_trips(trades["entry_index"][closed], trades["exit_index"][closed],
                            trades["entry_price"][closed], trades["exit_price"][closed])
        print(f"{label:<46} {rate(n, seconds)}")
        print(f"    trades {int(closed.sum())} closed + {int((~closed).sum())} open; vs ours: {same_trades(our_trips, trips)}")
        print(f"    final equity {equity_agreement(ours.final_equity, float(pf.final_value()))}")
        if fastest is None or seconds < fastest[1]:
            fastest = (label, seconds)
    print(f"fastest vectorbt: {fastest[0]} at {n / fastest[1]:,.0f} bars/s; "
          f"tradeloom simulation is {fastest[1] / sim_s:.1f}x its speed")

    # -- backtrader on a prefix ------------------------------------------------------------
    m = min(args.bt_bars, n)
    bt_s, bt = bench_backtrader.run({k: getattr(bars, k) for k in ("ts", "open", "high", "low", "close", "volume")}, m)
    prefix = run_fast(bars.slice(m), SmaCross({"fast": 10, "slow": 50}).signals(bars.slice(m)), policy)
    pf_prefix = bench_vectorbt.from_signals(o[:m], h[:m], lo[:m], c[:m], up[:m], down[:m], "rust")
    vbt_prefix = bench_vectorbt.trades_of(pf_prefix)
    print(f"\n## backtrader {bench_backtrader.bt.__version__} on the first {m:,} bars (cheat-on-open, OCO stop+limit)")
    print(f"cerebro.run: {rate(m, bt_s)}")
    print(f"trades on the prefix: backtrader {bt['closed']} closed + {bt['open']} open; tradeloom "
          f"{prefix.positions_closed} closed + {int(prefix.open_entry_index >= 0)} open; vectorbt "
          f"{int(vbt_prefix['closed'].sum())} closed + {int((~vbt_prefix['closed']).sum())} open")
    prefix_trips = round_trips(prefix.trades["entry_index"], prefix.trades["exit_index"],
                               prefix.trades["entry_price"], prefix.trades["exit_price"])
    bt_trips = round_trips(bt["entry_index"], bt["exit_index"], bt["entry_price"], bt["exit_price"])
    print(f"    vs ours: {same_trades(prefix_trips, bt_trips)}")
    print(f"    final equity: ours {prefix.final_equity:,.6f}; backtrader {equity_agreement(prefix.final_equity, bt['final_equity'])}")

    # -- the event-by-event engine ---------------------------------------------------------
    engine_section(bars, "fixed", args, n)

    # -- cold runs -----------------------------------------------------------------------------
    print(f"\n## cold runs: a fresh process each (interpreter start, imports, load, indicators, simulation, metrics), {args.cold_runs} runs")
    ours_cold = cold_runs("run_tradeloom.py", path, args.cold_runs)
    vbt_cold = cold_runs("run_vectorbt.py", path, args.cold_runs)
    for label, times in (("tradeloom fast path", ours_cold), ("vectorbt from_signals (auto engine: Rust)", vbt_cold)):
        print(f"{label:<42} median {statistics.median(times):6.2f} s  min {min(times):6.2f} s  "
              f"-> {n / statistics.median(times):,.0f} bars/s")


def engine_section(bars, policy_name: str, args, n: int) -> None:
    k = min(args.engine_bars or n, n)
    sub = bars.slice(k)
    try:
        # Warm, best of the repeats, like every other framework here; the first run is shown too,
        # since it pays one-time costs (lazy imports, first Decimal contexts, allocator growth).
        # Only the best run's result is kept: like the other frameworks' repeats, a run does not
        # start with the previous runs' hundreds of thousands of orders and fills still in memory.
        first, best = None, None
        for _ in range(max(1, args.repeats)):
            run = engine_run(sub, policy_name)
            first = run[0] if first is None else first
            if best is None or run[0] < best[0]:
                best = run
            run = None  # noqa: F841 (let a slower run's result go before the next run)
    except Exception as error:  # report, do not hide the rest of the benchmark
        print(f"\n## event-by-event engine: FAILED on {k:,} bars: {type(error).__name__}: {error}")
        return
    seconds, result = best
    fast_policy = run_tradeloom.policy_for(policy_name, walk_data.TICK)  # on the engine's tick grid
    fast = run_fast(sub, SmaCross({"fast": 10, "slow": 50}).signals(sub), fast_policy)
    print(f"\n## event-by-event engine (run_backtest, SimulatedVenue, policy {policy_name}) on {k:,} bars")
    print(f"run_backtest, warm (best of {max(1, args.repeats)}): {rate(k, seconds)}  (goal: >= 230,000 bars/s)")
    print(f"run_backtest, first run in the process: {rate(k, first)}")
    print(f"exits by reason: engine {dict(sorted(result.exits_by_reason.items()))}")
    print(f"                 fast   {dict(sorted(fast.exits_by_reason().items()))}")
    print(f"fast path vs engine: {compare_rows(fast_rows(fast), engine_rows(result, sub.ts))}")
    print(f"final equity: fast {fast.final_equity:,.6f}; engine {equity_agreement(fast.final_equity, float(result.final_equity))}")


def protection_mode(path: Path, args) -> None:
    run_tradeloom.whole_run(path, "protection")
    whole = min((run_tradeloom.whole_run(path, "protection") for _ in range(args.repeats)), key=lambda r: r["seconds"])
    bars = run_tradeloom.load_bars(path)
    signals = SmaCross({"fast": 10, "slow": 50}).signals(bars)
    policy = run_tradeloom.policy_for("protection")
    sim_s, ours = best_of(lambda: run_fast(bars, signals, policy), args.repeats)
    n = len(bars)
    print("\n## tradeloom fast path with the full protection policy (breakeven 1R, trail 1R from 1.5R and 0.5R from 3R,")
    print("## scale-outs 50% at 2R, 25% at 3R, 25% at 4R; 2% initial stop; no fixed target)")
    print(f"whole run: {rate(n, whole['seconds'])}")
    print(f"simulation alone: {rate(n, sim_s)}")
    print(f"positions: {ours.positions_closed} closed; exit fills {len(ours.trades)}; final equity {ours.final_equity:,.6f}")
    engine_section(bars, "protection", args, n)


if __name__ == "__main__":
    main()
