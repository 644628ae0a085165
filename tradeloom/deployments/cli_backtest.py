"""``tradeloom backtest``, ``tradeloom optimise`` and ``tradeloom kill-switch``.

Backtests and searches run as Prefect flows (on the local server when it is up, so they
show in the UI; otherwise on one temporary API). The kill switch lives in the ledger
(TRADELOOM_LEDGER_URL, shared with every live loop), which the engine reads at every breaker
evaluation; pulling it needs no Prefect at all.
"""

from __future__ import annotations

import getpass
import socket
import time
from enum import Enum
from typing import Any, Optional

import typer
from rich.table import Table

from tradeloom.deployments.cli_output import JSON_OPTION, console, parse_moment, print_json
from tradeloom.deployments.cli_runs import run_flow
from tradeloom.settings.platform import PlatformSettings

STRATEGY = typer.Option("sma_cross", "--strategy", help="A base strategy (sma_cross, rsi_reversion, donchian_breakout, macd, rules) or a saved one.")
SYMBOL = typer.Option("EURUSD", "--symbol", help="Instrument, e.g. EURUSD.")
TIMEFRAME = typer.Option("1m", "--timeframe", help="Bar timeframe in the market store: 1m, 5m, 15m, 30m, 1h, 4h or 1d.")
START = typer.Option(None, "--start", help="ISO date-time, UTC (inclusive).")
END = typer.Option(None, "--end", help="ISO date-time, UTC (exclusive).")
DATA = typer.Option(None, "--data", help="Parquet or CSV file with ts (UTC, int ns or ISO), open, high, low, close, volume.")
STOP = typer.Option(2.0, "--stop-pct", help="Stop distance in percent of the entry (the base stop of the protection policy).")
TARGET = typer.Option(4.0, "--take-profit-pct", help="Take-profit distance in percent (fixed policy).")
FEE = typer.Option(0.1, "--fee-pct", help="Fee per side in percent of notional.")
CASH = typer.Option(100_000.0, "--cash", help="Starting cash.")
SIZE = typer.Option(None, "--size", help="Fixed quantity per entry (default: 1 with --policy fixed, risk sizing with protection).")


class PolicyChoice(str, Enum):
    """Position management."""

    fixed = "fixed"
    protection = "protection"


class SearchMethod(str, Enum):
    """Search method."""

    grid = "grid"
    genetic = "genetic"


POLICY = typer.Option(PolicyChoice.fixed, "--policy", help="fixed: stop and take-profit; protection: the full risk policy from the settings.")


def parse_params(specs: list[str] | None, option: str = "--param") -> dict[str, Any]:
    """``["fast=10", "allow_short=true"]`` -> {"fast": 10, "allow_short": True}."""
    from tradeloom.trading.optimiser.space import parse_value

    params: dict[str, Any] = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{spec!r} must look like NAME=VALUE, e.g. fast=10", param_hint=option)
        params[name.strip()] = parse_value(value)
    return params


def _show_backtest(summary: dict) -> None:
    metrics = summary["metrics"]
    table = Table(title=f"{summary['strategy']} {summary['symbol']} {summary['timeframe']} ({summary['policy']} policy)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("trades", "final_equity"):
        table.add_row(key, str(summary[key]))
    for key in ("total_return", "cagr", "sharpe", "sortino", "calmar", "max_drawdown", "max_drawdown_duration_bars",
                "win_rate", "profit_factor", "expectancy", "exposure", "fees"):
        value = metrics[key]
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print("exits by reason: " + ", ".join(f"{k} {v}" for k, v in summary["exits_by_reason"].items()))
    execution = summary["execution"]
    if execution:  # the protection policy's risk side: skipped entries and how orders were sent
        skipped = summary["entries_skipped_by_reason"]
        console.print("entries skipped: " + (", ".join(f"{k} {v}" for k, v in skipped.items()) or "none"))
        console.print("order methods: " + (", ".join(f"{k} {v}" for k, v in execution["methods"].items()) or "none")
                      + f"; fills beyond SLIPPAGE_TOLERANCE: {execution['fills_beyond_slippage_tolerance']}")
    var = summary["value_at_risk"]
    if var["parametric_95"] is None:
        console.print(f"value at risk ({var['horizon']}): {var['note']}")
    else:
        console.print(f"value at risk ({var['horizon']}) of the final equity: parametric 95% {var['parametric_95']}, "
                      f"99% {var['parametric_99']}; historical 95% {var['historical_95']}, 99% {var['historical_99']} "
                      f"(from {var['daily_returns']} daily returns)")
    console.print(f"reports: {summary['reports']['png']} {summary['reports']['html']}")


def backtest(
    strategy: str = STRATEGY, symbol: str = SYMBOL, timeframe: str = TIMEFRAME, start: Optional[str] = START,
    end: Optional[str] = END,
    param: Optional[list[str]] = typer.Option(None, "--param", help="NAME=VALUE strategy parameter; repeatable."),
    stop_pct: float = STOP, take_profit_pct: float = TARGET, fee_pct: float = FEE, cash: float = CASH,
    size: Optional[float] = SIZE, data: Optional[str] = DATA, policy: PolicyChoice = POLICY, as_json: bool = JSON_OPTION,
) -> None:
    """Backtest a strategy on stored bars (or --data FILE) through the engine; reports under TRADELOOM_HOME/reports."""
    params, first, last = parse_params(param), parse_moment(start, "--start"), parse_moment(end, "--end")
    from tradeloom.flows.backtest import backtest as backtest_flow

    run_flow(backtest_flow, as_json, _show_backtest, strategy=strategy, symbol=symbol, timeframe=timeframe,
                     start=first, end=last, params=params,
                     stop_pct=stop_pct, take_profit_pct=take_profit_pct, fee_pct=fee_pct, cash=cash, size=size, data=data,
                     policy=policy.value)


def _show_optimise(out: dict) -> None:
    table = Table(title=f"{out['method']} search of {out['strategy']} {out['symbol']} {out['timeframe']}: "
                        f"{out['evaluated']} candidates, fitness = out-of-sample {out['metric']}")
    for column in ("candidate", "fitness", "trades", "parameters", "made by"):
        table.add_column(column)
    for row in out["best"]:
        candidate, evaluation = row["candidate"], row["evaluation"]
        table.add_row(candidate["id"], f"{evaluation['fitness']:.4f}", str(evaluation["trades"]), str(candidate["params"]),
                      candidate["mutation"])
    console.print(table)
    for path in out["saved"]:
        console.print(f"saved {path}")


def optimise(
    strategy: str = STRATEGY, symbol: str = SYMBOL, timeframe: str = TIMEFRAME, start: Optional[str] = START,
    end: Optional[str] = END, data: Optional[str] = DATA,
    method: SearchMethod = typer.Option(SearchMethod.genetic, "--method", help="grid or genetic."),
    grid: Optional[list[str]] = typer.Option(None, "--grid", help="NAME=V1,V2 or NAME=START:STOP:STEP (grid); repeatable."),
    range_: Optional[list[str]] = typer.Option(None, "--range", help="NAME=LOW:HIGH search range (genetic); repeatable."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="NAME=VALUE held fixed; repeatable."),
    metric: str = typer.Option("sharpe", "--metric", help="Fitness: sharpe, sortino, calmar, total_return, cagr, profit_factor, win_rate, expectancy, max_drawdown."),
    generations: int = typer.Option(5, "--generations", min=0), population: int = typer.Option(12, "--population", min=2),
    seed: int = typer.Option(0, "--seed"), folds: int = typer.Option(3, "--folds", min=1),
    in_sample_ratio: float = typer.Option(0.7, "--in-sample-ratio", help="In-sample share of each walk-forward window."),
    anchored: bool = typer.Option(False, "--anchored", help="Every in-sample window starts at the first bar."),
    stop_pct: float = STOP, take_profit_pct: float = TARGET, fee_pct: float = FEE, cash: float = CASH,
    size: Optional[float] = SIZE, policy: PolicyChoice = POLICY,
    save_as: Optional[str] = typer.Option(None, "--save-as", help="Save the best strategies to the library under this name."),
    keep: int = typer.Option(1, "--keep", min=1, help="How many of the best to report (and save)."),
    dask_address: Optional[str] = typer.Option(None, "--dask-address", help="Dask scheduler, e.g. tcp://host:8786 (default TRADELOOM_DASK_ADDRESS, else a LocalCluster)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search parameters (grid or genetic; for --strategy rules, the rules too) with walk-forward fitness, on Dask."""
    from tradeloom.trading.optimiser.evaluation import FITNESS_METRICS
    from tradeloom.trading.optimiser.library import check_name

    params, first, last = parse_params(param), parse_moment(start, "--start"), parse_moment(end, "--end")
    if metric not in FITNESS_METRICS:
        raise typer.BadParameter(f"{metric!r} is not one of {', '.join(FITNESS_METRICS)}", param_hint="--metric")
    if method is SearchMethod.grid and not grid:
        raise typer.BadParameter("a grid search needs at least one --grid NAME=V1,V2", param_hint="--grid")
    if save_as is not None:
        try:
            check_name(save_as)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--save-as") from None
    from tradeloom.flows.optimise import optimise as optimise_flow

    run_flow(optimise_flow, as_json, _show_optimise, strategy=strategy, symbol=symbol, timeframe=timeframe,
                     start=first, end=last, data=data, method=method.value,
                     grid=grid, ranges=range_, params=params, metric=metric, generations=generations,
                     population=population, seed=seed, folds=folds, in_sample_ratio=in_sample_ratio, anchored=anchored,
                     stop_pct=stop_pct, take_profit_pct=take_profit_pct, fee_pct=fee_pct, cash=cash, size=size,
                     policy=policy.value, save_as=save_as, keep=keep, dask_address=dask_address)


class SwitchAction(str, Enum):
    """What to do with the kill switch."""

    on = "on"
    off = "off"
    status = "status"


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment or the password database (some containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def kill_switch(
    action: SwitchAction = typer.Argument(..., help="on: pull it (trading halts); off: release it; status: show it."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why (required with on)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who pulls or releases it (default user@host)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pull, release or show the kill switch in the ledger (TRADELOOM_LEDGER_URL); every loop on it obeys within one loop."""
    from tradeloom.settings.trading import TradingSettings
    from tradeloom.trading.ledger import SqlLedger, from_ns
    from tradeloom.trading.risk.stored_state import StoredKillSwitch

    if action is SwitchAction.on and (not reason or not reason.strip()):
        raise typer.BadParameter("pulling the kill switch needs a reason", param_hint="--reason")
    url = TradingSettings().ledger(PlatformSettings().home)
    try:
        ledger = SqlLedger(url)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="TRADELOOM_LEDGER_URL") from None
    except Exception as error:  # noqa: BLE001 - an unreachable database: say which, without its password
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        message = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
        if parsed.password:
            message = message.replace(str(parsed.password), "***")
        console.print(f"[red]cannot open the ledger[/red] {parsed.render_as_string(hide_password=True)}: {message}")
        raise typer.Exit(1) from None
    with ledger:
        switch = StoredKillSwitch(ledger)
        who = by.strip() if by and by.strip() else _who()
        if action is SwitchAction.on:
            status = switch.engage(reason or "", who, time.time_ns())
        elif action is SwitchAction.off:
            status = switch.release(who, time.time_ns(), reason or "released")
        else:
            status = switch.status()
        out = {"engaged": status.engaged, "reason": status.reason, "by": status.by,
               "since": None if status.since_ns is None else from_ns(status.since_ns).isoformat(), "ledger": ledger.url}
    if as_json:
        print_json(out)
        return
    state = "[red]ENGAGED[/red]: trading is halted" if status.engaged else "[green]released[/green]"
    when = f" since {out['since']}" if out["since"] else ""
    who_text = f" by {status.by}" if status.by else ""
    console.print(f"kill switch {state}{when}{who_text}" + (f" ({status.reason})" if status.reason else "")
                  + f" in the ledger {ledger.url}")


def strategies(as_json: bool = JSON_OPTION) -> None:
    """The base strategies and the saved (evolved) ones in the strategy library."""
    from tradeloom.settings.trading import TradingSettings
    from tradeloom.trading.optimiser.evaluation import BASE_STRATEGIES
    from tradeloom.trading.optimiser.library import StrategyLibrary

    library = StrategyLibrary(TradingSettings().strategies(PlatformSettings().home))
    saved = []
    for name in library.names():
        entry = library.load(name)
        saved.append({"name": name, "strategy": entry.strategy, "params": entry.params, "metric": entry.metric,
                      "fitness": entry.fitness, "symbol": entry.symbol, "timeframe": entry.timeframe,
                      "generations": 1 + max((row["generation"] for row in entry.lineage), default=0)})
    if as_json:
        print_json({"base": list(BASE_STRATEGIES), "saved": saved})
        return
    console.print("base: " + ", ".join(BASE_STRATEGIES))
    for entry_row in saved:
        console.print(f"{entry_row['name']}: {entry_row['strategy']} {entry_row['params']} "
                      f"({entry_row['metric']} {entry_row['fitness']}, {entry_row['symbol']} {entry_row['timeframe']})")


def register(app: typer.Typer) -> None:
    """Add these commands to the ``tradeloom`` command."""
    app.command("backtest")(backtest)
    app.command("optimise")(optimise)
    app.command("kill-switch")(kill_switch)
    app.command("strategies")(strategies)
