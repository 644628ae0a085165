"""Backtest steps: load bars (market store or a Parquet/CSV file), run one backtest, record it, report it.

The plain functions do the work (tests call them); the ``@task`` wrappers add Prefect's
run tracking. Inputs are large (bars), so nothing here is cached on its inputs.
"""

from __future__ import annotations

import subprocess
from importlib import metadata
import uuid
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tradeloom.data.instruments import INSTRUMENTS
from tradeloom.data.store import MarketStore
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.ledger import BacktestRun, BacktestTrade, SqlLedger, from_ns
from tradeloom.trading.optimiser.library import StrategyLibrary
from tradeloom.trading.optimiser.recipe import BacktestRecipe, RecipeRun, run_recipe
from tradeloom.trading.reports.chart import equity_drawdown_png
from tradeloom.trading.reports.html import html_report
from tradeloom.trading.reports.summary import markdown_summary
from tradeloom.trading.risk.var import EquityVar, equity_var
from tradeloom.trading.strategies.base import Bars

FLAGGED_FILLS_SHOWN = 100  # the newest flagged fills listed in the summary; all are counted
BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume")
_KINDS = {"fx": InstrumentKind.FX, "metal": InstrumentKind.FX, "crypto": InstrumentKind.SPOT,
          "equity": InstrumentKind.EQUITY, "index": InstrumentKind.EQUITY, "commodity": InstrumentKind.EQUITY}


def trading_instrument(symbol: str) -> Instrument:
    """The tradable instrument for ``symbol``: the tick from its Dukascopy price scale, else 0.00001; lot 0.0001."""
    known = INSTRUMENTS.get(symbol.upper())
    tick = Decimal(1) / Decimal(int(known.dukascopy_divisor)) if known and known.dukascopy_divisor else Decimal("0.00001")
    kind = _KINDS.get(known.asset_class, InstrumentKind.SPOT) if known else InstrumentKind.SPOT
    base = (known.base if known else None) or symbol
    quote = (known.quote if known else None) or "USD"
    return Instrument(symbol, kind, base, quote, tick, Decimal("0.0001"))


def _utc(moment: datetime | None) -> pd.Timestamp | None:
    if moment is None:
        return None
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def read_bars_file(path: Path | str, start: datetime | None = None, end: datetime | None = None) -> Bars:
    """Bars from a Parquet or CSV file with columns ts (UTC: integer ns or ISO), open, high, low, close, volume."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"bar file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif suffix == ".csv":
        frame = pd.read_csv(path)
    else:
        raise ValueError(f"bar file {path} must be .parquet or .csv, not {suffix or 'without a suffix'}")
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"bar file {path} lacks columns {missing}; it has {list(frame.columns)}")
    try:
        bars = Bars.from_frame(frame)
    except ValueError as error:
        raise ValueError(f"bar file {path}: {error}") from error
    return _window(bars, start, end, str(path))


def _window(bars: Bars, start: datetime | None, end: datetime | None, what: str) -> Bars:
    first = 0 if start is None else int(np.searchsorted(bars.ts, _utc(start).value, side="left"))
    last = len(bars) if end is None else int(np.searchsorted(bars.ts, _utc(end).value, side="left"))
    picked = Bars(bars.ts[first:last], bars.open[first:last], bars.high[first:last], bars.low[first:last],
                  bars.close[first:last], bars.volume[first:last])
    if len(picked) == 0:
        raise ValueError(f"no bars in {what} between {start} and {end}")
    return picked


def read_store_bars(store_path: Path, symbol: str, timeframe: str, start: datetime | None, end: datetime | None,
                    priority: list[str]) -> Bars:
    """Bars from the market store, one per timestamp (the first source in ``priority``)."""
    frame = MarketStore(store_path).bars(symbol, timeframe, start, end, priority=priority)
    if frame.empty:
        raise ValueError(f"the market store {store_path} has no {symbol} {timeframe} bars between {start} and {end}; "
                         "ingest them first (tradeloom ingest ...) or pass --data FILE")
    return Bars.from_frame(frame)


@task(name="load-bars", cache_policy=NO_CACHE)
def load_bars(symbol: str, timeframe: str, start: datetime | None, end: datetime | None, data_file: str | None,
              store_path: Path, priority: list[str]) -> Bars:
    """Bars from ``data_file`` when given, else from the market store."""
    if data_file:
        return read_bars_file(data_file, start, end)
    return read_store_bars(store_path, symbol, timeframe, start, end, priority)


@dataclass(frozen=True, eq=False)
class BacktestOutcome:
    """A finished backtest with what identifies it."""

    run_id: str
    name: str  # as asked: a base strategy or a saved one
    base: str
    params: dict[str, Any]
    timeframe: str
    recipe: BacktestRecipe
    run: RecipeRun

    @cached_property
    def value_at_risk(self) -> EquityVar:
        """One-day VaR of the final equity from the equity curve's daily returns (none if too few days)."""
        result = self.run.result
        return equity_var(result.ts, result.equity, result.starting_cash, result.final_equity)

    def entries_skipped(self) -> dict[str, int]:
        """Entries the risk side did not make, counted by reason (protection only)."""
        return self.run.risk.policy.entries_skipped_by_reason() if self.run.risk else {}

    def execution(self) -> dict[str, Any]:
        """How orders were sent (method counts) and the fills beyond SLIPPAGE_TOLERANCE (protection only)."""
        if self.run.risk is None:
            return {}
        gate = self.run.risk.gate  # the gate sees every order, so it judges every fill
        newest = list(gate.flagged_fills)[-FLAGGED_FILLS_SHOWN:]
        return {"methods": self.run.risk.planner.methods_used(), "fills_beyond_slippage_tolerance": gate.flagged_count,
                "flagged_fills": [{"order": f.client_order_id, "reference": str(f.reference), "fill_price": str(f.price),
                                   "slippage_pct": str(f.slippage_pct)} for f in newest]}

    def summary(self) -> dict[str, Any]:
        """JSON-ready: trades, final equity, metrics, exits by reason, one-day VaR and the trade list."""
        result = self.run.result
        return {
            "run_id": self.run_id, "strategy": self.name, "base_strategy": self.base, "params": self.params,
            "symbol": self.recipe.instrument.symbol, "timeframe": self.timeframe,
            "start": from_ns(int(result.ts[0])).isoformat(), "end": from_ns(int(result.ts[-1])).isoformat(),
            "bars": len(result.ts), "policy": self.recipe.policy, "recipe": self.recipe.parameters(),
            "trades": len(result.trades), "final_equity": str(result.final_equity),
            "metrics": self.run.metrics.as_dict(),
            "exits_by_reason": self.run.exits_by_reason(self.recipe.exit_kinds()),
            "exit_reasons": dict(sorted(result.exits_by_reason.items())),
            "value_at_risk": self.value_at_risk.as_dict(),
            "entries_skipped_by_reason": self.entries_skipped(),
            "execution": self.execution(),
            "trade_list": [
                {"side": t.side.value, "quantity": str(t.quantity), "entry_at": from_ns(t.entry_ts).isoformat(),
                 "entry_price": str(t.entry_price), "exit_at": from_ns(t.exit_ts).isoformat(),
                 "exit_price": str(t.exit_price), "pnl": str(t.pnl), "fees": str(t.fees), "exit_reason": t.exit_reason}
                for t in result.trades
            ],
        }


def backtest(name: str, params: dict[str, Any], bars: Bars, recipe: BacktestRecipe, timeframe: str,
             library_dir: Path, run_id: str | None = None) -> BacktestOutcome:
    """Backtest the base or saved strategy ``name`` (``params`` override its parameters)."""
    strategy, base, effective = StrategyLibrary(library_dir).resolve(name, params)
    return BacktestOutcome(run_id or uuid.uuid4().hex, name, base, effective, timeframe, recipe,
                           run_recipe(strategy, bars, recipe))


@task(name="run-backtest", cache_policy=NO_CACHE)
def run_backtest_task(name: str, params: dict[str, Any], bars: Bars, recipe: BacktestRecipe, timeframe: str,
                      library_dir: Path, run_id: str | None = None) -> BacktestOutcome:
    """One backtest through the engine and the simulated venue."""
    return backtest(name, params, bars, recipe, timeframe, library_dir, run_id)


def code_version() -> str:
    """tradeloom's version and, in a git checkout, the commit (``0.1.0+abc1234``)."""
    try:
        version = metadata.version("tradeloom")
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return version
    sha = done.stdout.strip()
    return f"{version}+{sha}" if done.returncode == 0 and sha else version


def ledger_record(outcome: BacktestOutcome, created_at: datetime, version: str) -> BacktestRun:
    """The ledger's record of ``outcome``: strategy, parameters, data range, code version, metrics, trades."""
    result = outcome.run.result
    parameters = {"strategy_params": outcome.params, "base_strategy": outcome.base, **outcome.recipe.parameters()}
    metrics = {**outcome.run.metrics.as_dict(), "exits_by_reason": outcome.run.exits_by_reason(outcome.recipe.exit_kinds()),
               "value_at_risk": outcome.value_at_risk.as_dict(), "execution": outcome.execution(),
               "entries_skipped_by_reason": outcome.entries_skipped()}
    trades = tuple(
        BacktestTrade(t.symbol, t.side, t.quantity, from_ns(t.entry_ts), t.entry_price, from_ns(t.exit_ts), t.exit_price,
                      t.pnl, t.fees, t.exit_reason)
        for t in result.trades
    )
    return BacktestRun(outcome.run_id, outcome.name, parameters, outcome.recipe.instrument.symbol, outcome.timeframe,
                       from_ns(int(result.ts[0])), from_ns(int(result.ts[-1])), version, metrics, created_at, trades)


@task(name="record-backtest", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def record_backtest(outcome: BacktestOutcome, ledger_url: str) -> str:
    """Save the run in the ledger with its parameters, data range and code version; returns its id."""
    with SqlLedger(ledger_url) as ledger:
        return ledger.record_backtest_run(ledger_record(outcome, datetime.now(timezone.utc), code_version()))


def write_reports(outcome: BacktestOutcome, report_dir: Path) -> tuple[Path, Path]:
    """The PNG of equity and drawdown and the interactive HTML report, named after the run."""
    result, metrics = outcome.run.result, outcome.run.metrics
    title = f"{outcome.name} {outcome.recipe.instrument.symbol} {outcome.timeframe} ({outcome.recipe.policy} policy)"
    stem = Path(report_dir) / f"backtest-{outcome.run_id}"
    png = equity_drawdown_png(result.ts, result.equity, stem.with_suffix(".png"), title=title)
    page = html_report(result.ts, result.equity, result.trades, metrics, stem.with_suffix(".html"), title=title,
                       value_at_risk=outcome.value_at_risk)
    return png, page


@task(name="publish-backtest-report", cache_policy=NO_CACHE)
def publish_report(outcome: BacktestOutcome, report_dir: Path, artifact_key: str = "backtest") -> dict[str, str]:
    """Write the reports and publish the markdown summary with the chart as a Prefect artifact."""
    png, page = write_reports(outcome, report_dir)
    summary = outcome.summary()
    details = {"Strategy": f"{outcome.name} ({outcome.base}) {outcome.params}", "Symbol": summary["symbol"],
               "Timeframe": outcome.timeframe, "Data": f"{summary['start']} .. {summary['end']} ({summary['bars']} bars)",
               "Policy": outcome.recipe.policy, "Run": outcome.run_id, "HTML report": str(page)}
    if outcome.run.risk is not None:
        skipped = summary["entries_skipped_by_reason"]
        execution = summary["execution"]
        details["Entries skipped by the risk side"] = ", ".join(f"{k} {v}" for k, v in skipped.items()) or "none"
        details["Order methods"] = ", ".join(f"{k} {v}" for k, v in execution["methods"].items()) or "none"
        details["Fills beyond SLIPPAGE_TOLERANCE"] = str(execution["fills_beyond_slippage_tolerance"])
    text = markdown_summary(outcome.run.metrics, title=f"Backtest {outcome.name} {summary['symbol']}", chart_png=png,
                            details=details, value_at_risk=outcome.value_at_risk)
    create_markdown_artifact(text, key=artifact_key, description=f"backtest {outcome.name} {summary['symbol']} {outcome.timeframe}")
    return {"png": str(png), "html": str(page)}
