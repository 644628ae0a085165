"""Every deployment, defined once: the embedded ``serve`` and prefect.yaml are both built from this."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefect import Flow

from tradeloom.flows.backtest import backtest
from tradeloom.flows.ingest import ingest_alphavantage, ingest_dukascopy, ingest_instrument, ingest_yahoo
from tradeloom.flows.optimise import optimise
from tradeloom.flows.sample import sample_pipeline


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: which flow, under what name, on what schedule, with which parameters."""

    name: str
    flow: Flow
    entrypoint: str  # path:function, relative to the repository root, for prefect.yaml
    description: str
    cron: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "hourly", ingest_dukascopy, "tradeloom/flows/ingest.py:ingest_dukascopy",
        "Dukascopy ticks and bars of the ingest plan, from the watermarks to now.",
        cron="7 * * * *", tags=("market-data", "dukascopy"),
    ),
    DeploymentSpec(
        "daily-after-close", ingest_yahoo, "tradeloom/flows/ingest.py:ingest_yahoo",
        "Yahoo Finance bars of the ingest plan, after the US close (22:30 UTC, weekdays).",
        cron="30 22 * * 1-5", tags=("market-data", "yahoo"),
    ),
    DeploymentSpec(
        "daily-after-close", ingest_alphavantage, "tradeloom/flows/ingest.py:ingest_alphavantage",
        "Alpha Vantage bars of the ingest plan, after the US close (22:45 UTC, weekdays).",
        cron="45 22 * * 1-5", tags=("market-data", "alphavantage"),
    ),
    DeploymentSpec(
        "ad-hoc", ingest_instrument, "tradeloom/flows/ingest.py:ingest_instrument",
        "One instrument and timeframe from the first source in priority order that delivers it.",
        parameters={"symbol": "EURUSD", "timeframe": "1d"}, tags=("market-data",),
    ),
    DeploymentSpec(
        "bundled", sample_pipeline, "tradeloom/flows/sample.py:sample_pipeline",
        "The bundled sample data through every ingestion flow (the main job runs it at start).",
        tags=("sample",),
    ),
    DeploymentSpec(
        "ad-hoc", backtest, "tradeloom/flows/backtest.py:backtest",
        "One backtest of a base or saved strategy on stored bars (or a Parquet/CSV file), with reports and an artifact.",
        parameters={"strategy": "sma_cross", "symbol": "EURUSD", "timeframe": "1h", "policy": "protection"},
        tags=("trading", "backtest"),
    ),
    DeploymentSpec(
        "ad-hoc", optimise, "tradeloom/flows/optimise.py:optimise",
        "Evolve strategy rules (or search parameters) with walk-forward fitness on a Dask cluster; saves the best.",
        parameters={"strategy": "rules", "symbol": "EURUSD", "timeframe": "1h", "method": "genetic",
                    "save_as": "evolved-eurusd-1h"},
        tags=("trading", "optimiser"),
    ),
)


def deployment_id(spec: DeploymentSpec) -> str:
    """The ``flow-name/deployment-name`` Prefect uses to run a deployment."""
    return f"{spec.flow.name}/{spec.name}"
