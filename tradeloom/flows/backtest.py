"""The ``backtest`` flow: bars in, one backtest through the engine, the run in the ledger, reports and an artifact."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.events import emit_event
from prefect.runtime import flow_run

from tradeloom.data.priority import sources_for
from tradeloom.settings.market import MarketDataSettings
from tradeloom.settings.platform import PlatformSettings
from tradeloom.settings.risk import RiskSettings, risk_config
from tradeloom.settings.trading import TradingSettings
from tradeloom.tasks.backtesting import load_bars, publish_report, record_backtest, run_backtest_task, trading_instrument
from tradeloom.trading.optimiser.recipe import BacktestRecipe


def _number(value: float | str | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def make_recipe(symbol: str, cash: float | str, size: float | str | None, stop_pct: float | str | None,
                take_profit_pct: float | str | None, fee_pct: float | str, policy: str) -> BacktestRecipe:
    """The recipe from flow parameters; the protection policy's configuration is read from the risk settings here."""
    risk = risk_config(RiskSettings()) if policy == "protection" else None
    return BacktestRecipe(trading_instrument(symbol), _number(cash), _number(size), _number(stop_pct),  # type: ignore[arg-type]
                          _number(take_profit_pct), _number(fee_pct), policy, risk)  # type: ignore[arg-type]


@flow(name="backtest", log_prints=False)
def backtest(
    strategy: str = "sma_cross",
    symbol: str = "EURUSD",
    timeframe: str = "1m",
    start: datetime | None = None,
    end: datetime | None = None,
    params: dict[str, Any] | None = None,
    stop_pct: float | None = 2.0,
    take_profit_pct: float | None = 4.0,
    fee_pct: float = 0.1,
    cash: float = 100_000,
    size: float | None = None,
    data: str | None = None,
    policy: Literal["fixed", "protection"] = "fixed",
) -> dict[str, Any]:
    """Backtest a base or saved strategy on bars from the market store (or ``data``, a Parquet/CSV file)."""
    platform, trading = PlatformSettings(), TradingSettings()
    priority = sources_for(MarketDataSettings().source_priority, symbol, timeframe)
    recipe = make_recipe(symbol, cash, size, stop_pct, take_profit_pct, fee_pct, policy)
    bars = load_bars(symbol, timeframe, start, end, data, platform.market_store_path, priority)
    run_id = str(flow_run.get_id() or "") or None
    outcome = run_backtest_task(strategy, params or {}, bars, recipe, timeframe, trading.strategies(platform.home), run_id)
    record_backtest(outcome, trading.ledger(platform.home))
    reports = publish_report(outcome, trading.reports(platform.home))
    summary = {**outcome.summary(), "reports": reports}
    get_run_logger().info("backtest %s %s %s: %d trades, final equity %s, exits %s", strategy, symbol, timeframe,
                          summary["trades"], summary["final_equity"], summary["exits_by_reason"])
    emit_event(event="tradeloom.backtest.completed", resource={"prefect.resource.id": f"tradeloom.backtest.{outcome.run_id}"},
               payload={"strategy": strategy, "symbol": symbol, "trades": summary["trades"],
                        "final_equity": summary["final_equity"]})
    return summary
