"""Ingestion steps: fetch a batch from a source, validate it, store it or quarantine it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from prefect import task
from prefect.context import TaskRunContext
from pydantic import SecretStr
from prefect.cache_policies import INPUTS, NO_CACHE
from prefect.tasks import exponential_backoff

from tradeloom.data.aggregation import bars_from_tick_frame
from tradeloom.data.frames import Batch
from tradeloom.data.quality import ValidationReport, validate_batch
from tradeloom.data.store import MarketStore, QuarantineRecord, StoreWrite, WriteResult
from tradeloom.errors import is_retryable
from tradeloom.tasks.limits import (
    ALPHAVANTAGE_PER_DAY,
    ALPHAVANTAGE_PER_SECOND,
    MARKET_STORE_WRITER,
    YAHOO_PER_SECOND,
    rate_limited,
    serialised,
)
from tradeloom.tasks.market_sources import SourceEndpoints, open_source


def retry_transient_only(task, task_run, state) -> bool:  # noqa: ANN001 (Prefect's callback signature)
    """Retry a failed fetch only when its error is transient (503, timeout, cut, empty, 429)."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, BaseException) and is_retryable(error)


_FETCH_RETRIES = dict(
    retries=4,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient_only,
)


def is_last_attempt() -> bool:
    """True in a task run's last try (no retry left); False outside a task run."""
    context = TaskRunContext.get()
    return context is not None and context.task_run.run_count > context.task.retries


@task(name="fetch-dukascopy", cache_policy=NO_CACHE, **_FETCH_RETRIES)
def fetch_dukascopy(symbol: str, timeframe: str, start: datetime, end: datetime, endpoints: SourceEndpoints) -> Batch:
    """Ticks or bars of ``symbol`` from Dukascopy for [start, end).

    Open-market files that stay empty are a transient error (retried with backoff) until the last
    try, which takes them as no data: the calendar knows no holidays, and a holiday must not fail
    every run that reaches it. The validation then warns about the gap.
    """
    with open_source("dukascopy", endpoints, accept_empty=is_last_attempt()) as source:
        if timeframe == "tick":
            return source.fetch_ticks(symbol, start, end)
        return source.fetch_bars(symbol, timeframe, start, end)


@task(name="fetch-yahoo", cache_policy=NO_CACHE, **_FETCH_RETRIES)
@rate_limited(YAHOO_PER_SECOND)
def fetch_yahoo(symbol: str, timeframe: str, start: datetime, end: datetime, endpoints: SourceEndpoints) -> Batch:
    """Bars of ``symbol`` from the Yahoo chart API for [start, end)."""
    with open_source("yahoo", endpoints) as source:
        return source.fetch_bars(symbol, timeframe, start, end)


# Cached for 12 hours on its inputs: a re-run the same day does not spend the 25-calls quota again.
@task(name="fetch-alphavantage", cache_policy=INPUTS, cache_expiration=timedelta(hours=12), **_FETCH_RETRIES)
@rate_limited(ALPHAVANTAGE_PER_SECOND, ALPHAVANTAGE_PER_DAY, timeout_seconds=120)
def fetch_alphavantage(symbol: str, timeframe: str, start: datetime, end: datetime, endpoints: SourceEndpoints,
                       api_key: SecretStr | None = None) -> Batch:
    """Bars of ``symbol`` from Alpha Vantage for [start, end); ``api_key`` is resolved by the flow (None for a mirror)."""
    with open_source("alphavantage", endpoints, api_key) as source:
        return source.fetch_bars(symbol, timeframe, start, end)


FETCHERS = {"dukascopy": fetch_dukascopy, "yahoo": fetch_yahoo, "alphavantage": fetch_alphavantage}


@task(name="validate-batch", cache_policy=NO_CACHE)
def validate(batch: Batch) -> ValidationReport:
    """Run the batch's Great Expectations suite."""
    return validate_batch(batch)


@task(name="aggregate-ticks", cache_policy=NO_CACHE)
def aggregate_ticks(ticks: Batch, timeframe: str, side: str, since: datetime) -> Batch:
    """Bars of ``timeframe`` from the ticks at or after ``since`` (a bar boundary), labelled with the ticks' source."""
    frame = ticks.frame
    kept = frame[frame["ts"] >= since] if len(frame) and frame["ts"].iloc[0] < since else frame
    return Batch(ticks.source, ticks.symbol, timeframe, bars_from_tick_frame(kept, timeframe, side, ticks.source))


@task(name="store-batch", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, retry_condition_fn=retry_transient_only)
@serialised(MARKET_STORE_WRITER)
def store(writes: list[StoreWrite], store_path: Path, lock_timeout: float) -> list[WriteResult]:
    """Upsert validated batches into the market store in one transaction (a unit's ticks and its provisional bars)."""
    return MarketStore(store_path, lock_timeout=lock_timeout).write_batches(writes, ingested_at=datetime.now(timezone.utc))


@task(name="quarantine-batch", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, retry_condition_fn=retry_transient_only)
@serialised(MARKET_STORE_WRITER)
def quarantine(batch: Batch, report: ValidationReport, store_path: Path, lock_timeout: float) -> QuarantineRecord:
    """Keep a failed batch (payloads and frame) aside with its failed checks; nothing enters the tables."""
    return MarketStore(store_path, lock_timeout=lock_timeout).quarantine(
        batch, reason=report.summary(), failed_checks=report.failed_checks(), quarantined_at=datetime.now(timezone.utc)
    )


@task(name="read-watermark", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, retry_condition_fn=retry_transient_only)
def read_watermark(source: str, symbol: str, timeframe: str, store_path: Path) -> datetime | None:
    """Where the last ingestion of (source, symbol, timeframe) stopped."""
    if not store_path.exists():
        return None
    return MarketStore(store_path).watermark(source, symbol, timeframe)
