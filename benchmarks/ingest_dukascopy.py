"""Benchmark: a month of Dukascopy tick files decoded, aggregated to 1m bars and stored, against the lzma floor.

Run from the repository root with the project's environment:

    .venv/bin/python benchmarks/ingest_dukascopy.py [--month 2019-02] [--workers 10] [--json]

It lays out a month of hourly ``.bi5`` tick files under ``benchmarks/.data/`` (git-ignored), copying
the real recorded EURUSD hours of ``../shared/fixtures`` to every hour of the month by time of day
(busy 07-17h UTC, quiet rollover 21-22h, ordinary otherwise) and writing 0-byte files for the hours
the FX market is closed, exactly as the vendor serves them. Tick offsets are relative to their
hour, so a copied file is re-timed by its path. Then, in the same run, it measures:

  a) the floor: lzma decompression alone of the same files, ticks/s (one thread, and ``--workers`` threads);
  b) **the path the Dukascopy flow runs** (``flows/ingest.py``, headline): units of
     ``TRADELOOM_DUKASCOPY_TICK_UNIT_DAYS`` UTC days (``chunk_range("tick", tick_days=...)``, default 7),
     the next unit fetched and its 1m bid bars aggregated on a second thread (the flow submits its
     fetch and ``aggregate_ticks`` to its thread task runner) while the current one is stored: the
     unit's ticks and bars in one ``write_batches`` (one transaction; the bars do not move the 1m
     watermark), each write opening and closing the store. The flow aggregates only the open UTC
     day's ticks (closed days' bars come from the vendor's candle files); here every unit is
     aggregated, as the issue asks. Not included: Great Expectations validation (measured
     separately, e) and Prefect's per-task overhead;
  c) for comparison, the shape of the flow before units of several days: one unit per UTC day, fetched
     and aggregated, then stored, in turn (no prefetch);
  d) the month as one batch: fetch, aggregate, store the bars (then the ticks, reported separately);
  e) what the flow's validation of the same units costs (after its first call, which imports Great
     Expectations);
  f) peak memory of a fresh process ingesting the month in one batch, ticks stored (ru_maxrss and
     tracemalloc's peak), and of one running the flow's path.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tradeloom.data.aggregation import bars_from_tick_frame  # noqa: E402
from tradeloom.data.calendar import is_open  # noqa: E402
from tradeloom.data.frames import Batch  # noqa: E402
from tradeloom.data.ranges import chunk_range  # noqa: E402
from tradeloom.data.sources.dukascopy import DukascopySource  # noqa: E402
from tradeloom.data.sources.dukascopy.urls import legacy_tick_path, next_period, periods_between  # noqa: E402
from tradeloom.data.sources.transport import DirectoryFetcher  # noqa: E402
from tradeloom.data.store import MarketStore, StoreWrite  # noqa: E402
from tradeloom.settings.market import MarketDataSettings  # noqa: E402

TICK_UNIT_DAYS = MarketDataSettings.model_fields["dukascopy_tick_unit_days"].default

FIXTURE_HOURS = REPO.parent / "shared" / "fixtures" / "dukascopy" / "datafeed" / "EURUSD" / "2019" / "01" / "04"
DATA = REPO / "benchmarks" / ".data" / "dukascopy"
TICK_BYTES = 20


def fixture_for(hour: int) -> Path:
    """The recorded hour whose activity matches ``hour`` of the day (UTC)."""
    if 7 <= hour <= 17:
        return FIXTURE_HOURS / "13h_ticks.bi5"  # 7763 ticks
    if hour in (21, 22):
        return FIXTURE_HOURS / "22h_ticks.bi5"  # 2354 ticks
    return FIXTURE_HOURS / "00h_ticks.bi5"  # 3733 ticks


def build_month(root: Path, symbol: str, start: datetime, end: datetime) -> list[Path]:
    """Lay out one ``.bi5`` per hour of [start, end) under ``root``; closed-market hours are 0 bytes."""
    hours = periods_between(start, end, "hour")
    open_hours = is_open("fx", np.array([int(h.timestamp()) * 1_000_000_000 for h in hours], dtype="int64"))
    files = []
    for hour, market_open in zip(hours, open_hours):
        target = root / legacy_tick_path(symbol, hour)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = fixture_for(hour.hour) if market_open else None
        size = source.stat().st_size if source else 0
        if not target.is_file() or target.stat().st_size != size:
            if source:
                shutil.copyfile(source, target)
            else:
                target.write_bytes(b"")
        files.append(target)
    return files


def timed(run: Callable[[], None]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads) of one call of ``run``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def ingest(root: Path, symbol: str, start: datetime, end: datetime, workers: int, store_path: Path,
           store_ticks: bool) -> dict:
    """Decode the month's ticks, aggregate 1m bid bars, store the bars (then the ticks); seconds per stage."""
    stages: dict[str, float] = {}
    began = time.perf_counter()
    source = DukascopySource(DirectoryFetcher(root), api="legacy", max_in_flight=workers)
    ticks = source.fetch_ticks(symbol, start, end)
    stages["decode"] = time.perf_counter() - began
    mark = time.perf_counter()
    bars = Batch("dukascopy", ticks.symbol, "1m", bars_from_tick_frame(ticks.frame, "1m", "bid", "dukascopy"))
    stages["aggregate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    market = MarketStore(store_path)
    market.write_batch(bars, ingested_at=datetime.now(timezone.utc))
    stages["store_bars"] = time.perf_counter() - mark
    stages["total"] = time.perf_counter() - began
    if store_ticks:
        mark = time.perf_counter()
        market.write_batch(ticks, ingested_at=datetime.now(timezone.utc))
        stages["store_ticks"] = time.perf_counter() - mark
    return {"ticks": len(ticks.frame), "bars": len(bars.frame), "seconds": stages}


def ingest_as_flow(root: Path, symbol: str, start: datetime, end: datetime, workers: int, store_path: Path,
                   tick_days: int, prefetch: bool) -> dict:
    """The flow's shape: per unit, the ticks and the 1m bars aggregated from them stored in one write; the next
    unit fetched and aggregated meanwhile (the flow's task runner).

    Seconds per stage are summed on the storing thread (``decode`` is the time it waited for the
    next unit's fetch and aggregation); ``aggregate`` is summed on the fetching thread.
    """
    stages = dict.fromkeys(("decode", "store", "aggregate"), 0.0)
    source = DukascopySource(DirectoryFetcher(root), api="legacy", max_in_flight=workers)
    market = MarketStore(store_path)
    units = chunk_range("tick", start, end, tick_days=tick_days)
    ticks_seen = bars_seen = writes = 0

    def fetch_and_aggregate(unit: tuple[datetime, datetime]) -> tuple[Batch, Batch]:
        ticks = source.fetch_ticks(symbol, *unit)
        mark = time.perf_counter()
        bars = Batch(ticks.source, ticks.symbol, "1m", bars_from_tick_frame(ticks.frame, "1m", "bid", ticks.source))
        stages["aggregate"] += time.perf_counter() - mark
        return ticks, bars

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as runner:
        def fetch(number: int) -> Future:
            future: Future = Future()
            if number < len(units):
                if prefetch:
                    return runner.submit(fetch_and_aggregate, units[number])
                future.set_result(fetch_and_aggregate(units[number]))
            return future

        upcoming = fetch(0)
        for number in range(len(units)):
            mark = time.perf_counter()
            ticks, bars = upcoming.result()
            stages["decode"] += time.perf_counter() - mark
            upcoming = fetch(number + 1) if prefetch else upcoming
            if len(ticks.frame):  # the flow stores nothing for an empty unit either
                mark = time.perf_counter()
                market.write_batches([StoreWrite(ticks), StoreWrite(bars, advance_watermark=False)],
                                     ingested_at=datetime.now(timezone.utc))
                stages["store"] += time.perf_counter() - mark
                ticks_seen += len(ticks.frame)
                bars_seen += len(bars.frame)
                writes += 1
            if not prefetch and number + 1 < len(units):
                mark = time.perf_counter()
                upcoming = fetch(number + 1)
                stages["decode"] += time.perf_counter() - mark
    stages["total"] = time.perf_counter() - began
    return {"ticks": ticks_seen, "bars": bars_seen, "units": len(units), "writes": writes, "seconds": stages}


def validation_seconds(root: Path, symbol: str, start: datetime, end: datetime, workers: int, tick_days: int) -> dict:
    """Great Expectations validation of the flow's units (ticks, and the 1m bars from them): first call and the rest."""
    # Imported here: Great Expectations costs ~6 s and ~100 MB to import, which the other figures leave out.
    from tradeloom.data.quality import validate_batch
    source = DukascopySource(DirectoryFetcher(root), api="legacy", max_in_flight=workers)
    batches = []
    for unit in chunk_range("tick", start, end, tick_days=tick_days):
        ticks = source.fetch_ticks(symbol, *unit)
        if len(ticks.frame):
            batches += [ticks, Batch(ticks.source, ticks.symbol, "1m",
                                     bars_from_tick_frame(ticks.frame, "1m", "bid", ticks.source))]
    mark = time.perf_counter()
    validate_batch(batches[0])
    first = time.perf_counter() - mark
    mark = time.perf_counter()
    for batch in batches:
        if not validate_batch(batch).success:
            raise RuntimeError(f"validation failed for {batch.symbol} {batch.timeframe}")
    return {"first_call": first, "all_units": time.perf_counter() - mark, "batches": len(batches)}


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started its program, in MB.

    Linux's ru_maxrss survives fork and exec, so a child started from this (large) benchmark
    process would report the parent's peak; VmHWM belongs to the new program's memory alone.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: argparse.Namespace, start: datetime, end: datetime) -> None:
    """Ingest once in this fresh process and print its peak memory as JSON."""
    if args.tracemalloc:
        tracemalloc.start()
    if args.flow_path:
        result = ingest_as_flow(DATA, args.symbol, start, end, args.workers, Path(args.store), TICK_UNIT_DAYS, True)
    else:
        result = ingest(DATA, args.symbol, start, end, args.workers, Path(args.store), store_ticks=True)
    result["maxrss_mb"] = peak_rss_mb()
    if args.tracemalloc:
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(result))


def real_flow(args: argparse.Namespace, start: datetime, end: datetime) -> None:
    """Run the real ``ingest-dukascopy`` flow on the month (ticks only) under a throw-away Prefect API; print timings.

    Run twice on fresh stores: the first run pays one-off costs (Great Expectations import, Prefect
    client), the second is the steady state. Validation and Prefect's task overhead are included;
    1m bars are not aggregated (the flow does that only for the still-open UTC day).
    """
    from prefect.testing.utilities import prefect_test_harness

    home = Path(args.store)
    os.environ["TRADELOOM_HOME"] = str(home)
    from tradeloom.flows.ingest import ingest_dukascopy

    timings = []
    with prefect_test_harness(server_startup_timeout=180):
        for _ in range(2):
            shutil.rmtree(home, ignore_errors=True)
            wall, cpu = time.perf_counter(), time.process_time()
            result = ingest_dukascopy(symbols=[args.symbol], timeframes=["tick"], start=start, end=end,
                                      base_url=str(DATA), api="legacy")
            timings.append({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                            "units": len(result["units"]),
                            "ticks": sum(u["rows_added"] for u in result["units"])})
    shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(timings))


def run_child(args: argparse.Namespace, store_path: Path, traced: bool, flow_path: bool = False,
              real: bool = False) -> dict:
    """Run one ingestion in a fresh interpreter, so its peak memory is its own."""
    command = [sys.executable, __file__, "--child", "--month", args.month, "--symbol", args.symbol,
               "--workers", str(args.workers), "--store", str(store_path)]
    if traced:
        command.append("--tracemalloc")
    if flow_path:
        command.append("--flow-path")
    if real:
        command.append("--real-flow-child")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2019-02", help="YYYY-MM to synthesise and ingest")
    parser.add_argument("--symbol", default="EURUSD")
    parser.add_argument("--workers", type=int, default=10, help="max_in_flight of the source, threads of the floor")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions; the best is reported")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--flow-path", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--real-flow", action="store_true",
                        help="also run the real ingest-dukascopy flow on the month under a temporary Prefect API")
    parser.add_argument("--real-flow-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--store", default=str(DATA.parent / "stores" / "market.duckdb"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    year, month = (int(part) for part in args.month.split("-"))
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = next_period(start, "month")
    if args.real_flow_child:
        real_flow(args, start, end)
        return
    if args.child:
        child(args, start, end)
        return

    files = build_month(DATA, args.symbol, start, end)
    bodies = [f.read_bytes() for f in files]
    compressed = [b for b in bodies if b]
    ticks = sum(len(lzma.decompress(b, format=lzma.FORMAT_ALONE)) for b in compressed) // TICK_BYTES

    def floor_serial() -> None:
        for body in compressed:
            lzma.decompress(body, format=lzma.FORMAT_ALONE)

    store_dir = DATA.parent / "stores"
    store_dir.mkdir(parents=True, exist_ok=True)

    def fresh(name: str) -> Path:
        path = store_dir / f"market-{name}.duckdb"
        path.unlink(missing_ok=True)
        return path

    def flow_path() -> dict:
        return ingest_as_flow(DATA, args.symbol, start, end, args.workers, fresh("flow"), TICK_UNIT_DAYS, True)

    def day_path() -> dict:
        return ingest_as_flow(DATA, args.symbol, start, end, args.workers, fresh("days"), 1, False)

    def batch_path() -> dict:
        return ingest(DATA, args.symbol, start, end, args.workers, fresh("batch"), False)

    def measured(run: Callable[[], dict]) -> dict:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        return {**result, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}

    # Warm-up (first-use costs are not throughput); it also times storing the month's ticks in one write.
    store_ticks_seconds = ingest(DATA, args.symbol, start, end, args.workers, fresh("warm"), True)["seconds"]["store_ticks"]
    flow_path()
    # Other work on the machine skews wall time, so floor and ingestion alternate and the best of
    # each is kept; CPU time (all threads) is reported as well, being less sensitive to it.
    runs: dict[str, list] = {"serial": [], "threaded": [], "flow": [], "days": [], "batch": []}
    loads = []
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        def floor_threads() -> None:
            list(pool.map(lambda body: lzma.decompress(body, format=lzma.FORMAT_ALONE), compressed))

        for _ in range(args.repeats):
            loads.append(os.getloadavg()[0])
            runs["serial"].append(timed(floor_serial))
            runs["threaded"].append(timed(floor_threads))
            runs["flow"].append(measured(flow_path))
            runs["days"].append(measured(day_path))
            runs["batch"].append(measured(batch_path))
    validation = validation_seconds(DATA, args.symbol, start, end, args.workers, TICK_UNIT_DAYS)
    serial_wall, serial_cpu = min(runs["serial"])
    serial_cpu = min(cpu for _, cpu in runs["serial"])
    threaded_wall, _ = min(runs["threaded"])
    best = {name: min(runs[name], key=lambda run: run["wall"]) for name in ("flow", "days", "batch")}
    least_cpu = {name: min(run["cpu"] for run in runs[name]) for name in ("flow", "days", "batch")}
    for name in ("flow", "days"):
        if best[name]["ticks"] != ticks:
            raise RuntimeError(f"the {name} path saw {best[name]['ticks']} ticks, the files hold {ticks}")
    rss = run_child(args, fresh("rss"), traced=False)
    traced = run_child(args, fresh("traced"), traced=True)
    flow_rss = run_child(args, fresh("flow-rss"), traced=False, flow_path=True)
    real_runs = run_child(args, store_dir / "real-flow", traced=False, real=True) if args.real_flow else None
    for path in store_dir.glob("market-*.duckdb*"):
        path.unlink()

    def figures(name: str) -> dict:
        run = best[name]
        return {
            "units": run.get("units", 1), "store_writes": run.get("writes", 1),
            "seconds": {k: round(v, 3) for k, v in run["seconds"].items()},
            "ticks_per_s": round(ticks / run["wall"]),
            "ratio_to_serial_floor": round(serial_wall / run["wall"], 2),
            "ratio_to_threaded_floor": round(threaded_wall / run["wall"], 2),
            "cpu_seconds": round(least_cpu[name], 3),
            "cpu_ratio": round(serial_cpu / least_cpu[name], 2),
        }

    results = {
        "month": args.month, "symbol": args.symbol, "hour_files": len(files), "non_empty_files": len(compressed),
        "compressed_mb": round(sum(map(len, compressed)) / 2**20, 1), "ticks": ticks, "bars_1m": best["flow"]["bars"],
        "workers": args.workers, "cpus": os.cpu_count(), "tick_unit_days": TICK_UNIT_DAYS,
        "load_average_1m": [round(load, 1) for load in loads],
        "floor_serial_ticks_per_s": round(ticks / serial_wall), "floor_serial_cpu_seconds": round(serial_cpu, 3),
        "floor_threads_ticks_per_s": round(ticks / threaded_wall),
        "flow_path": figures("flow"), "day_units": figures("days"), "month_batch": figures("batch"),
        "month_batch_store_ticks_seconds": round(store_ticks_seconds, 3),
        "validation_seconds": {k: round(v, 3) if isinstance(v, float) else v for k, v in validation.items()},
        "peak_rss_mb": round(rss["maxrss_mb"]), "traced_peak_mb": round(traced["traced_peak_mb"]),
        "flow_path_peak_rss_mb": round(flow_rss["maxrss_mb"]),
        "real_flow": None if real_runs is None else [
            {"wall": round(r["wall"], 2), "cpu": round(r["cpu"], 2), "units": r["units"], "ticks": r["ticks"],
             "ticks_per_s": round(r["ticks"] / r["wall"]), "ratio_to_serial_floor": round(serial_wall / r["wall"], 2),
             "cpu_ratio": round(serial_cpu / r["cpu"], 2)} for r in real_runs],
        "python": sys.version.split()[0],
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    flow, days, batch = results["flow_path"], results["day_units"], results["month_batch"]
    print(f"Dukascopy ingestion benchmark, {args.symbol} {args.month}: {len(files)} hour files "
          f"({len(compressed)} with ticks, {results['compressed_mb']} MB), {ticks:,} ticks -> {results['bars_1m']:,} 1m bars; "
          f"{results['cpus']} CPUs, load average {results['load_average_1m']} (1 min, at each repeat)")
    print(f"a) floor, lzma alone, 1 thread        : {results['floor_serial_ticks_per_s']:>12,} ticks/s "
          f"(CPU {results['floor_serial_cpu_seconds']} s)")
    print(f"   floor, lzma alone, {args.workers:>2} threads      : {results['floor_threads_ticks_per_s']:>12,} ticks/s")
    for label, row in ((f"b) the flow's path, {TICK_UNIT_DAYS}-day units, prefetch", flow),
                       ("c) 1-day units, no prefetch         ", days),
                       ("d) month as one batch, bars only     ", batch)):
        print(f"{label}: {row['ticks_per_s']:>12,} ticks/s, {row['units']} units, {row['store_writes']} store writes "
              f"(seconds: {row['seconds']})")
        print(f"   ratio to the 1-thread floor        : {row['ratio_to_serial_floor']:.2f}  (goal >= 0.70)")
        print(f"   ratio to the {args.workers:>2}-thread floor       : {row['ratio_to_threaded_floor']:.2f}")
        print(f"   CPU-time ratio, floor / this       : {row['cpu_ratio']:.2f}  (CPU {row['cpu_seconds']} s, all threads)")
    print(f"   d + the month's ticks in one write  : tick store {results['month_batch_store_ticks_seconds']} s")
    v = results["validation_seconds"]
    print(f"e) validation of b's units ({v['batches']} batches, ticks and 1m bars): {v['all_units']} s; "
          f"first call {v['first_call']} s (excluded from b)")
    for number, run in enumerate(results["real_flow"] or [], start=1):
        print(f"g) the real ingest-dukascopy flow (ticks, validation, Prefect), run {number}: {run['ticks_per_s']:>10,} "
              f"ticks/s, {run['units']} units, {run['wall']} s wall, {run['cpu']} s CPU; ratio to the 1-thread floor "
              f"{run['ratio_to_serial_floor']:.2f}, CPU-time ratio {run['cpu_ratio']:.2f}")
    print(f"f) peak memory, fresh process, month in one batch + ticks: {results['peak_rss_mb']} MB RSS, "
          f"{results['traced_peak_mb']} MB traced; the flow's path: {results['flow_path_peak_rss_mb']} MB RSS "
          f"(goal < 1024 MB)")


if __name__ == "__main__":
    main()
