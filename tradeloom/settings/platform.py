"""Where tradeloom keeps its state and which Prefect server it talks to."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """TRADELOOM_HOME and the Prefect API the CLI and the main job use."""

    model_config = SettingsConfigDict(env_prefix="TRADELOOM_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".tradeloom"), description="Directory holding all state: market.duckdb, ledger, reports, quarantine.")
    prefect_api_url: str = Field(
        "http://127.0.0.1:4200/api",
        description="The local Prefect server the main job starts and the CLI uses when it is up.",
    )

    @property
    def market_store_path(self) -> Path:
        """The DuckDB market store."""
        return self.home / "market.duckdb"
