"""Ingestion flows: one per source, and one that ingests an instrument by source priority.

Each flow reads settings once, cuts the range into units matching the vendors' files,
and for every unit fetches, validates, then stores or quarantines. A run that
quarantined or failed anything ends Failed, naming what broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import SecretStr

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.futures import PrefectFuture

from tradeloom.data.frames import Batch
from tradeloom.data.priority import sources_for
from tradeloom.data.quality import ValidationReport
from tradeloom.data.ranges import chunk_range
from tradeloom.data.store import StoreWrite
from tradeloom.errors import PermanentError, TradeloomError
from tradeloom.flows.ingest_report import IngestSummary, UnitOutcome
from tradeloom.flows.progress import UnitProgress
from tradeloom.settings.market import MarketDataSettings
from tradeloom.settings.platform import PlatformSettings
from tradeloom.tasks.limits import ensure_limits
from tradeloom.tasks.market_data import FETCHERS, aggregate_ticks, quarantine, read_watermark, store, validate
from tradeloom.tasks.market_sources import SourceEndpoints, alphavantage_key, open_source


# Bars aggregated from the open UTC day's ticks (stored as the ticks' source at this timeframe).
PROVISIONAL_TIMEFRAME = "1m"


class IngestionFailed(TradeloomError):
    """An ingestion run quarantined a batch or could not fetch a unit."""


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class UnitFutures:
    """What the task runner is preparing for one unit: its fetch and validation, and, for ticks of the open
    UTC day, the provisional bars aggregated from them (``since`` their first minute) and their validation."""

    fetched: PrefectFuture[Batch]
    checked: PrefectFuture[ValidationReport]
    since: datetime | None = None
    aggregated: PrefectFuture[Batch] | None = None
    aggregated_checked: PrefectFuture[ValidationReport] | None = None


def _provisional_since(source: str, timeframe: str, start: datetime, end: datetime, now: datetime) -> datetime | None:
    """The first minute of provisional bars a tick unit reaching into the open UTC day gets (None: no bars).

    The vendor has no candle file for the open day yet, so its bars come from its ticks; the vendor's
    file replaces them later. From the first whole minute: the minute holding ``start`` (the
    watermark) was built by the last run.
    """
    open_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if source != "dukascopy" or timeframe != "tick" or end <= open_day:
        return None
    return max(open_day, _ceil_minute(start))


def _ingest_unit(source: str, symbol: str, timeframe: str, start: datetime, end: datetime, futures: UnitFutures,
                 platform: PlatformSettings, market: MarketDataSettings) -> list[UnitOutcome]:
    """Store or quarantine one fetched and validated unit (with its provisional bars, in the same
    transaction); any failure is recorded, never lost."""
    outcome = UnitOutcome(source, symbol, timeframe, start, end, status="empty")
    try:
        batch = futures.fetched.result()  # a failed fetch raises here, before its validation is asked for
        if not _screen(batch, futures.checked.result(), outcome, platform, market):
            return [outcome]
    # Vendor errors, a spent rate limit (TimeoutError) or bad input (ValueError) fail this unit
    # only: the run goes on with the others and ends Failed, naming each one.
    except (TradeloomError, TimeoutError, ValueError) as error:
        outcome.status, outcome.message = "failed", f"{type(error).__name__}: {error}"
        return [outcome]
    writes, outcomes = [(StoreWrite(batch), outcome)], [outcome]
    if futures.since is not None:
        assert futures.aggregated is not None and futures.aggregated_checked is not None
        bars = UnitOutcome(source, symbol, PROVISIONAL_TIMEFRAME, futures.since, end, status="empty",
                           message="provisional, from ticks of the open UTC day")
        outcomes.append(bars)
        try:
            aggregated = futures.aggregated.result()
            if _screen(aggregated, futures.aggregated_checked.result(), bars, platform, market):
                writes.append((StoreWrite(aggregated, advance_watermark=False), bars))
        except (TradeloomError, TimeoutError, ValueError) as error:
            bars.status, bars.message = "failed", f"{type(error).__name__}: {error}"
    _store_writes(writes, platform, market)
    return outcomes


def _store_writes(writes: list[tuple[StoreWrite, UnitOutcome]], platform: PlatformSettings,
                  market: MarketDataSettings) -> None:
    """Store the unit's batch and its provisional bars in one write, recording each outcome; if that
    write fails, the provisional bars are given up and the unit's own batch is stored alone."""
    try:
        results = store([write for write, _ in writes], platform.market_store_path, market.store_lock_timeout_seconds)
    except (TradeloomError, TimeoutError, ValueError) as error:
        for _, written in writes[1:] or writes:
            written.status, written.message = "failed", f"{type(error).__name__}: {error}"
        if len(writes) > 1:
            _store_writes(writes[:1], platform, market)
        return
    for (_, written), result in zip(writes, results):
        written.status = "stored"
        written.rows_added, written.rows_updated = result.rows_added, result.rows_updated
        written.watermark_before, written.watermark_after = result.watermark_before, result.watermark_after


def _screen(batch: Batch, report: ValidationReport, outcome: UnitOutcome, platform: PlatformSettings,
            market: MarketDataSettings) -> bool:
    """Quarantine ``batch`` if its validation ``report`` failed, recording what happened in ``outcome``;
    True when the batch has rows to store."""
    source, symbol, timeframe = outcome.source, outcome.symbol, outcome.timeframe
    outcome.warnings = list(report.warnings)
    if not report.success:
        record = quarantine(batch, report, platform.market_store_path, market.store_lock_timeout_seconds)
        outcome.status = "quarantined"
        outcome.message = f"{report.summary()} (batch {record.batch_id} kept in {record.payload_dir})"
        emit_event(
            event="tradeloom.market.batch.quarantined",
            resource={"prefect.resource.id": f"tradeloom.market.{source}.{symbol}.{timeframe}"},
            payload={"batch_id": record.batch_id, "reason": report.summary(), "rows": report.rows},
        )
        return False
    return report.rows > 0


def _ceil_minute(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def _ingest_units(source: str, work: list[tuple[str, str, datetime, datetime]], endpoints: SourceEndpoints,
                  platform: PlatformSettings, market: MarketDataSettings, api_key: SecretStr | None,
                  progress: UnitProgress, now: datetime) -> list[UnitOutcome]:
    """Every unit of ``work`` in order, fetching and validating the next one (and aggregating its provisional
    bars) on the flow's task runner while this one is stored.

    Downloads, lzma and DuckDB release the GIL, so fetching the next unit overlaps storing this one
    (and its validation, a Great Expectations run, no longer waits in line on this thread); at most
    two units are held in memory, and the store is still written by this thread alone.
    """
    fetch = FETCHERS[source]
    credentials = {"api_key": api_key} if source == "alphavantage" else {}

    def submit(unit: tuple[str, str, datetime, datetime]) -> UnitFutures:
        fetched = fetch.submit(*unit, endpoints, **credentials)
        since = _provisional_since(source, *unit[1:], now)
        if since is None:
            return UnitFutures(fetched, validate.submit(fetched))
        aggregated = aggregate_ticks.submit(fetched, PROVISIONAL_TIMEFRAME, market.dukascopy_price_side, since)
        return UnitFutures(fetched, validate.submit(fetched), since, aggregated, validate.submit(aggregated))

    outcomes: list[UnitOutcome] = []
    upcoming = submit(work[0]) if work else None
    for number, unit in enumerate(work):
        current, upcoming = upcoming, (submit(work[number + 1]) if number + 1 < len(work) else None)
        assert current is not None
        outcomes.extend(_ingest_unit(source, *unit, current, platform, market))
        progress.advance()
    return outcomes


def _units(source: str, timeframe: str, first: datetime, last: datetime, tick_days: int) -> list[tuple[datetime, datetime]]:
    """Units of work: vendor-file sized (``tick_days`` days of hourly tick files), except Alpha Vantage,
    whose one call returns the whole range."""
    if source == "alphavantage":
        return [(first, last)] if first < last else []
    return chunk_range(timeframe, first, last, tick_days=tick_days)


def _range_for(source: str, symbol: str, timeframe: str, start: datetime | None, end: datetime | None,
               platform: PlatformSettings, market: MarketDataSettings, now: datetime) -> tuple[datetime, datetime]:
    """An explicit range (a backfill), else from the watermark (or the look-back) to the last whole minute.

    Not to ``now`` itself: ticks of the minute still running would move the tick watermark into it,
    and the next run's provisional bars start at the minute after the watermark, so that minute's
    bar would keep only its first ticks. Its ticks come with the next run instead.
    """
    end = _utc(end) or now.replace(second=0, microsecond=0)
    if start is not None:
        return _utc(start), end
    mark = read_watermark(source, symbol, timeframe, platform.market_store_path)
    if mark is not None:
        return _utc(mark), end
    first = (now - timedelta(days=market.initial_lookback_days)).replace(hour=0, minute=0, second=0, microsecond=0)
    return first, end


def _publish(summary: IngestSummary) -> IngestSummary:
    logger = get_run_logger()
    create_markdown_artifact(summary.markdown(), key=summary.flow, description=f"tradeloom {summary.flow}")
    added = sum(u.rows_added for u in summary.units)
    logger.info("%s: %d units, %d rows added, %d problems", summary.flow, len(summary.units), added, len(summary.problems()))
    emit_event(
        event="tradeloom.market.ingest.completed" if summary.ok else "tradeloom.market.ingest.failed",
        resource={"prefect.resource.id": f"tradeloom.market.{summary.flow}"},
        payload={"rows_added": added, "problems": summary.problems()},
    )
    if not summary.ok:
        raise IngestionFailed("; ".join(summary.problems()))
    return summary


def run_source_ingestion(source: str, symbols: list[str] | None, timeframes: list[str] | None,
                         start: datetime | None, end: datetime | None, overrides: dict[str, object],
                         platform: PlatformSettings, market: MarketDataSettings) -> dict:
    """The body shared by the per-source flows: every (symbol, timeframe) of the plan."""
    plan = _plan(market.ingest_plan.get(source, {}), symbols, timeframes)
    ensure_limits(market.alphavantage_calls_per_day)
    endpoints = SourceEndpoints.from_settings(market, platform.home, **overrides)
    api_key = alphavantage_key(endpoints, market.alphavantage_api_key) if source == "alphavantage" else None
    now = datetime.now(timezone.utc)
    summary = IngestSummary(flow=f"ingest-{source}")
    work = [
        (symbol, timeframe, unit_start, unit_end)
        for symbol, timeframes in plan.items()
        for timeframe in timeframes
        for unit_start, unit_end in _units(source, timeframe, *_range_for(source, symbol, timeframe, start, end,
                                                                            platform, market, now),
                                           market.dukascopy_tick_unit_days)
    ]
    progress = UnitProgress(f"{summary.flow}-progress")
    progress.expect(len(work))
    summary.units.extend(_ingest_units(source, work, endpoints, platform, market, api_key, progress, now))
    return _publish(summary).to_json()


def _plan(configured: dict[str, list[str]], symbols: list[str] | None, timeframes: list[str] | None) -> dict[str, list[str]]:
    if symbols is None:
        return {s: list(timeframes or tfs) for s, tfs in configured.items()}
    return {s: list(timeframes or configured.get(s) or ["1d"]) for s in symbols}


@flow(name="ingest-dukascopy")
def ingest_dukascopy(symbols: list[str] | None = None, timeframes: list[str] | None = None,
                     start: datetime | None = None, end: datetime | None = None,
                     base_url: str | None = None, api: Literal["legacy", "json"] | None = None) -> dict:
    """Ingest Dukascopy ticks and bars; by default the configured plan from the watermarks to now."""
    platform, market = PlatformSettings(), MarketDataSettings()
    url_field = "dukascopy_legacy_url" if (api or market.dukascopy_api) == "legacy" else "dukascopy_json_url"
    overrides = {"dukascopy_api": api, url_field: base_url}
    return run_source_ingestion("dukascopy", symbols, timeframes, start, end, overrides, platform, market)


@flow(name="ingest-yahoo")
def ingest_yahoo(symbols: list[str] | None = None, timeframes: list[str] | None = None,
                 start: datetime | None = None, end: datetime | None = None, base_url: str | None = None) -> dict:
    """Ingest Yahoo Finance chart bars; by default the configured plan from the watermarks to now."""
    return run_source_ingestion("yahoo", symbols, timeframes, start, end, {"yahoo_url": base_url},
                                PlatformSettings(), MarketDataSettings())


@flow(name="ingest-alphavantage")
def ingest_alphavantage(symbols: list[str] | None = None, timeframes: list[str] | None = None,
                        start: datetime | None = None, end: datetime | None = None, base_url: str | None = None) -> dict:
    """Ingest Alpha Vantage bars (the key comes from a Secret block or the environment, never a parameter)."""
    return run_source_ingestion("alphavantage", symbols, timeframes, start, end, {"alphavantage_url": base_url},
                                PlatformSettings(), MarketDataSettings())


@flow(name="ingest-instrument")
def ingest_instrument(symbol: str, timeframe: str, start: datetime | None = None, end: datetime | None = None,
                      sources: list[str] | None = None) -> dict:
    """Ingest ``symbol`` at ``timeframe`` from the first source in priority order that delivers it."""
    platform, market = PlatformSettings(), MarketDataSettings()
    ensure_limits(market.alphavantage_calls_per_day)
    endpoints = SourceEndpoints.from_settings(market, platform.home)
    now = datetime.now(timezone.utc)
    summary = IngestSummary(flow="ingest-instrument")
    progress = UnitProgress("ingest-instrument-progress")
    tried: list[str] = []
    chain = sources or sources_for(market.source_priority, symbol, timeframe)
    api_key = alphavantage_key(endpoints, market.alphavantage_api_key) if "alphavantage" in chain else None
    for source in chain:
        unusable = _why_unusable(source, symbol, timeframe, endpoints, api_key)
        if unusable:
            tried.append(f"{source}: {unusable}")
            continue
        incremental = start is None and read_watermark(source, symbol, timeframe, platform.market_store_path) is not None
        first, last = _range_for(source, symbol, timeframe, start, end, platform, market, now)
        ranges = _units(source, timeframe, first, last, market.dukascopy_tick_unit_days)
        progress.expect(len(ranges))  # each source tried adds its own units
        work = [(symbol, timeframe, unit_start, unit_end) for unit_start, unit_end in ranges]
        units = _ingest_units(source, work, endpoints, platform, market, api_key, progress, now)
        delivered = any(u.status in ("stored", "quarantined") for u in units)
        # Nothing new since this source's watermark means up to date, not a reason to ask the next one.
        up_to_date = incremental and all(u.status == "empty" for u in units)
        if delivered or up_to_date:
            summary.units.extend(units)
            break
        tried.append(f"{source}: " + ("; ".join(u.message for u in units if u.message) or "no data"))
    else:
        summary.units.append(UnitOutcome("none", symbol, timeframe, _utc(start) or now, _utc(end) or now, "failed",
                                         message="no source delivered data: " + " | ".join(tried)))
    get_run_logger().info("source attempts before success: %s", tried or "none")
    return _publish(summary).to_json()


def _why_unusable(source: str, symbol: str, timeframe: str, endpoints: SourceEndpoints, api_key: SecretStr | None) -> str:
    """Why ``source`` cannot serve ``symbol`` at ``timeframe`` here ("" when it can)."""
    try:
        with open_source(source, endpoints, api_key) as built:
            provides = built.supports(symbol, timeframe)
    except (PermanentError, ValueError) as error:  # e.g. no Alpha Vantage key configured
        return f"cannot be used: {type(error).__name__}: {error}"
    return "" if provides else f"does not provide {symbol} {timeframe}"
