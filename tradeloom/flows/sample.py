"""The sample pipeline the main job runs: the bundled sample data through every ingestion flow, then a backtest."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from prefect import flow

import tradeloom.data
from tradeloom.flows.backtest import backtest
from tradeloom.flows.ingest import ingest_alphavantage, ingest_dukascopy, ingest_yahoo

SAMPLE_DIR = Path(tradeloom.data.__file__).parent / "sample"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


# A baseline strategy on the sample EURUSD hours of February 2019 with the full protection policy (as the
# risk settings configure it); a 0.3% base stop and FX-like fees let every rule show in the exits by reason.
BASELINE_BACKTEST = dict(strategy="sma_cross", symbol="EURUSD", timeframe="1h", start=_utc(2019, 2, 1),
                         end=_utc(2019, 3, 1), params={"fast": 5, "slow": 20}, stop_pct=0.3, take_profit_pct=None,
                         fee_pct=0.002, policy="protection")


@flow(name="sample-pipeline")
def sample_pipeline() -> dict:
    """Ingest the bundled EURUSD (Dukascopy), AAPL (Yahoo) and IBM (Alpha Vantage) sample data, then backtest on it."""
    dukascopy = dict(symbols=["EURUSD"], base_url=str(SAMPLE_DIR / "dukascopy"), api="legacy")
    ingested = {
        "dukascopy_ticks_and_minutes": ingest_dukascopy(timeframes=["tick", "1m"], start=_utc(2019, 2, 4), end=_utc(2019, 2, 5), **dukascopy),
        "dukascopy_hours": ingest_dukascopy(timeframes=["1h"], start=_utc(2019, 2, 1), end=_utc(2019, 3, 1), **dukascopy),
        "dukascopy_days": ingest_dukascopy(timeframes=["1d"], start=_utc(2019, 1, 1), end=_utc(2020, 1, 1), **dukascopy),
        "yahoo": ingest_yahoo(symbols=["AAPL"], timeframes=["1d"], start=_utc(2020, 8, 31), end=_utc(2020, 11, 7),
                              base_url=str(SAMPLE_DIR / "yahoo")),
        "alphavantage": ingest_alphavantage(symbols=["IBM"], timeframes=["1d"], start=_utc(2020, 5, 1), end=_utc(2020, 5, 9),
                                            base_url=str(SAMPLE_DIR / "alphavantage")),
    }
    return {**ingested, "backtest": backtest(**BASELINE_BACKTEST)}
