"""The ``optimise`` flow: a grid or a genetic search with walk-forward fitness, each backtest a task on Dask.

``optimise`` resolves the Dask task runner (a scheduler address, else a LocalCluster) and
runs the ``evolve`` subflow on it; ``evolve`` maps one ``evaluate-candidate`` task per
candidate and generation, saves the best strategies with their lineage to the strategy
library, and publishes a markdown artifact of the ranking.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from tradeloom.data.priority import sources_for
from tradeloom.flows.backtest import make_recipe
from tradeloom.settings.market import MarketDataSettings
from tradeloom.settings.platform import PlatformSettings
from tradeloom.settings.trading import TradingSettings
from tradeloom.tasks.backtesting import code_version, load_bars
from tradeloom.trading.ledger import from_ns
from tradeloom.trading.optimiser.evaluation import Evaluation, evaluate, strategy_params_model
from tradeloom.trading.optimiser.genetic import Candidate, GeneticSearch
from tradeloom.trading.optimiser.library import SavedStrategy, StrategyLibrary, check_name
from tradeloom.trading.optimiser.recipe import BacktestRecipe
from tradeloom.trading.optimiser.search import SearchResult, run_genetic, run_grid
from tradeloom.trading.optimiser.space import grid_points, parse_grid, space_for
from tradeloom.trading.optimiser.walk_forward import Split, walk_forward_splits
from tradeloom.trading.strategies.base import Bars


def dask_runner(address: str | None, workers: int, processes: bool = True, api_url: str | None = None) -> DaskTaskRunner:
    """A runner on the scheduler at ``address``, else on a new LocalCluster of ``workers`` workers.

    Worker processes of the LocalCluster get ``PREFECT_API_URL`` = ``api_url`` (the API this flow reports to,
    a temporary one included), so their task runs land in the same place; workers of a remote scheduler
    must have PREFECT_API_URL set where they run.
    """
    if address:
        return DaskTaskRunner(address=address)
    kwargs: dict[str, Any] = {"n_workers": workers, "processes": processes, "threads_per_worker": 1,
                              "dashboard_address": ":0"}
    if processes and api_url:
        kwargs["env"] = {"PREFECT_API_URL": api_url}
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=kwargs)


def _current_api_url() -> str | None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.api_url) if client.api_url else None


@task(name="evaluate-candidate", cache_policy=NO_CACHE)
def evaluate_candidate(candidate: Candidate, bars: Bars, recipe: BacktestRecipe, splits: tuple[Split, ...],
                       metric: str) -> Evaluation:
    """Backtest one candidate and score it out of sample."""
    return evaluate(candidate.id, candidate.strategy, candidate.params, bars, recipe, splits, metric)


def _ranges(specs: list[str] | None) -> dict[str, tuple[float, float]]:
    ranges = {}
    for spec in specs or []:
        name, sep, bounds = spec.partition("=")
        low, colon, high = bounds.partition(":")
        try:
            ranges[name.strip()] = (float(low), float(high))
        except ValueError:
            raise ValueError(f"range {spec!r} must look like NAME=LOW:HIGH, e.g. fast=2:30") from None
        if not sep or not colon:
            raise ValueError(f"range {spec!r} must look like NAME=LOW:HIGH, e.g. fast=2:30")
    return ranges


def _markdown(result: SearchResult, metric: str, method: str, top: int) -> str:
    lines = [f"# Optimiser ({method}, fitness: mean out-of-sample {metric})", "",
             f"{len(result.candidates)} candidates in {len(result.generations)} generation(s).", "",
             "| Rank | Candidate | Fitness | In-sample | Trades | Parameters | Made by |", "|---|---|---|---|---|---|---|"]
    for rank, (candidate, ev) in enumerate(result.best(top), 1):
        in_sample = sum(ev.in_sample) / len(ev.in_sample) if ev.in_sample else float("nan")
        params = str(candidate.params).replace("|", "\\|")
        lines.append(f"| {rank} | {candidate.id} | {ev.fitness:.4f} | {in_sample:.4f} | {ev.trades} | {params} | {candidate.mutation} |")
    lines += ["", "## Walk-forward: each fold's in-sample winner, out of sample", "",
              "| Fold | Chosen | In-sample | Out-of-sample |", "|---|---|---|---|"]
    lines += [f"| {row['fold']} | {row['chosen']} | {row['in_sample']:.4f} | {row['out_of_sample']:.4f} |"
              for row in result.walk_forward()]
    best = result.best(1)
    if best:
        lines += ["", f"## Lineage of {best[0][0].id}", "", "| Candidate | Generation | Parents | Made by | Fitness |", "|---|---|---|---|---|"]
        for row in result.lineage(best[0][0].id):
            lines.append(f"| {row['id']} | {row['generation']} | {', '.join(row['parents'])} | {row['mutation']} | {row['fitness']} |")
    return "\n".join(lines) + "\n"


@flow(name="evolve", log_prints=False)
def evolve(strategy: str, symbol: str, timeframe: str, start: datetime | None, end: datetime | None, data: str | None,
           method: str, grid: list[str] | None, ranges: list[str] | None, fixed: dict[str, Any] | None, metric: str,
           generations: int, population: int, seed: int, folds: int, in_sample_ratio: float, anchored: bool,
           recipe_values: dict[str, Any], save_as: str | None, keep: int) -> dict[str, Any]:
    """The search itself, on whatever task runner ``optimise`` gave it."""
    platform, trading = PlatformSettings(), TradingSettings()
    if save_as:
        check_name(save_as)
    recipe = make_recipe(symbol, **recipe_values)
    priority = sources_for(MarketDataSettings().source_priority, symbol, timeframe)
    bars = load_bars(symbol, timeframe, start, end, data, platform.market_store_path, priority)
    splits = walk_forward_splits(len(bars), folds, in_sample_ratio, anchored)
    model = strategy_params_model(strategy)

    def evaluate_batch(candidates: list[Candidate]) -> list[Evaluation]:
        futures = evaluate_candidate.map(candidates, unmapped(bars), unmapped(recipe), unmapped(splits), unmapped(metric))
        return [future.result() for future in futures]

    if method == "grid":
        points = list(grid_points(model, parse_grid(grid or []), fixed))
        result = run_grid(strategy, points, evaluate_batch)
    elif method == "genetic":
        dims = () if strategy == "rules" else space_for(model, _ranges(ranges), fixed)
        search = GeneticSearch(strategy, dims, model, population=population, seed=seed, fixed=dict(fixed or {}))
        result = run_genetic(search, generations, evaluate_batch)
    else:
        raise ValueError(f"method must be 'grid' or 'genetic', got {method!r}")

    best = result.best(keep)
    saved: list[str] = []
    if save_as:
        library = StrategyLibrary(trading.strategies(platform.home))
        now, version = datetime.now(timezone.utc).isoformat(), code_version()
        for rank, (candidate, ev) in enumerate(best, 1):
            name = save_as if rank == 1 else f"{save_as}-{rank}"
            saved.append(str(library.save(SavedStrategy(
                name, candidate.strategy, candidate.params, metric, ev.fitness, symbol, timeframe,
                from_ns(int(bars.ts[0])).isoformat(), from_ns(int(bars.ts[-1])).isoformat(), now, version,
                result.lineage(candidate.id), ev.as_dict()))))
    create_markdown_artifact(_markdown(result, metric, method, max(keep, 10)), key="optimise",
                             description=f"optimise {strategy} {symbol} {timeframe}")
    get_run_logger().info("optimise %s %s: %d candidates, best %s", strategy, symbol, len(result.candidates),
                          best[0][1].fitness if best else None)
    emit_event(event="tradeloom.optimise.completed", resource={"prefect.resource.id": f"tradeloom.optimise.{strategy}.{symbol}"},
               payload={"method": method, "metric": metric, "evaluated": len(result.candidates), "saved": saved,
                        "best_fitness": best[0][1].fitness if best else None})
    return {
        "strategy": strategy, "symbol": symbol, "timeframe": timeframe, "method": method, "metric": metric,
        "bars": len(bars), "splits": [vars(s) | {"out_start": s.out_start} for s in splits],
        "evaluated": len(result.candidates), "generations": len(result.generations), "walk_forward": result.walk_forward(),
        "best": [{"candidate": c.as_dict(), "evaluation": ev.as_dict(), "lineage": result.lineage(c.id)} for c, ev in best],
        "saved": saved,
    }


@flow(name="optimise", log_prints=False)
def optimise(
    strategy: str = "sma_cross",
    symbol: str = "EURUSD",
    timeframe: str = "1m",
    start: datetime | None = None,
    end: datetime | None = None,
    data: str | None = None,
    method: Literal["grid", "genetic"] = "genetic",
    grid: list[str] | None = None,
    ranges: list[str] | None = None,
    params: dict[str, Any] | None = None,
    metric: str = "sharpe",
    generations: int = 5,
    population: int = 12,
    seed: int = 0,
    folds: int = 3,
    in_sample_ratio: float = 0.7,
    anchored: bool = False,
    stop_pct: float | None = 2.0,
    take_profit_pct: float | None = 4.0,
    fee_pct: float = 0.1,
    cash: float = 100_000,
    size: float | None = None,
    policy: Literal["fixed", "protection"] = "fixed",
    save_as: str | None = None,
    keep: int = 1,
    dask_address: str | None = None,
    dask_processes: bool = True,
) -> dict[str, Any]:
    """Search ``strategy``'s parameters (or, for ``rules``, its rules) with walk-forward fitness on a Dask cluster."""
    trading = TradingSettings()
    address = dask_address if dask_address is not None else trading.dask_address
    runner = dask_runner(address, trading.dask_workers, dask_processes, _current_api_url())
    recipe_values = dict(cash=cash, size=size, stop_pct=stop_pct, take_profit_pct=take_profit_pct, fee_pct=fee_pct, policy=policy)
    return evolve.with_options(task_runner=runner)(
        strategy, symbol, timeframe, start, end, data, method, grid, ranges, params, metric, generations, population,
        seed, folds, in_sample_ratio, anchored, recipe_values, save_as, keep)
