"""Backtest, optimiser and kill-switch settings (TRADELOOM_ prefix), read once at the edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradeloom.trading.ledger import default_ledger_url


class TradingSettings(BaseSettings):
    """Where backtests are recorded and reported, where evolved strategies live, and the Dask cluster."""

    model_config = SettingsConfigDict(env_prefix="TRADELOOM_", env_file=".env", extra="ignore")

    ledger_url: str = Field("", description="SQLAlchemy URL of the ledger; empty: SQLite at TRADELOOM_HOME/ledger.sqlite.")
    dask_address: str = Field("", description="Dask scheduler for backtest sweeps and evolution; empty: a LocalCluster.")
    dask_workers: int = Field(2, ge=1, description="Workers of the LocalCluster used when no scheduler address is set.")
    strategy_dir: Path | None = Field(None, description="The strategy library (evolved strategies as JSON); default TRADELOOM_HOME/strategies.")
    report_dir: Path | None = Field(None, description="Backtest reports (PNG, HTML); default TRADELOOM_HOME/reports.")

    def ledger(self, home: Path) -> str:
        """The ledger URL, defaulting to SQLite under ``home``."""
        return self.ledger_url or default_ledger_url(home)

    def strategies(self, home: Path) -> Path:
        """The strategy library directory."""
        return self.strategy_dir or Path(home) / "strategies"

    def reports(self, home: Path) -> Path:
        """The report directory."""
        return self.report_dir or Path(home) / "reports"
