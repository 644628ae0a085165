"""DukascopySource: ticks and bars from Dukascopy's legacy datafeed (.bi5) or its JSON API (jetta)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from tradeloom.data.aggregation import PRICE_SIDES, BarArrays, bars_to_frame, flat_mask, mid_bars, resample_bars
from tradeloom.data.calendar import is_open
from tradeloom.data.frames import Batch, RawPayload
from tradeloom.data.instruments import MarketInstrument, dukascopy_divisor, instrument
from tradeloom.data.sources.dukascopy import urls
from tradeloom.data.sources.dukascopy.bi5 import candles_from_records, decompress_bi5, ticks_from_records
from tradeloom.data.sources.dukascopy.jetta import decode_jetta_candles, decode_jetta_ticks, fill_flats, is_empty_jetta
from tradeloom.data.sources.dukascopy.loading import FileJob, FileLoader, LoadedFile, require_expected_data
from tradeloom.data.sources.dukascopy.records import TickArrays, ticks_to_frame
from tradeloom.data.sources.transport import Fetcher
from tradeloom.data.timeframes import SUPPORTED, timeframe_ns

APIS = ("legacy", "json")
# Which vendor candle file each timeframe is built from (coarser ones are rolled up from it).
BASE_TIMEFRAME = {"1m": "1m", "2m": "1m", "5m": "1m", "15m": "1m", "30m": "1m", "1h": "1h", "4h": "1h", "1d": "1d"}
_HOUR_NS = 3_600_000_000_000
# How long after a period ends its file is taken as final and cached (the vendor publishes with a lag).
CACHE_AFTER = timedelta(hours=1)


def _ns(moment: datetime) -> int:
    return urls.epoch_ms(moment) * 1_000_000


class DukascopySource:
    """Dukascopy ticks and bars through ``fetcher`` (HTTP or a mirror directory laid out like the vendor).

    ``api`` picks the legacy datafeed (base ``https://datafeed.dukascopy.com/datafeed``) or the JSON
    API (base ``https://jetta.dukascopy.com/v1``). Bars are priced from ``price_side``; mid is the
    mean of the bid and ask prices with their volumes summed. Volumes are Dukascopy's raw values:
    millions of base units for FX (the JSON API's tick volumes are converted from units to
    millions to match), unconfirmed units for other assets. Flat zero-volume bars (closed market)
    are dropped unless ``drop_flats`` is False.

    The JSON API needs ``now`` (a UTC clock, injected): periods begun at or after ``now()`` are
    not asked for, and the running one is asked for at its undated path with
    ``?from=<period start ms>`` and never cached. The legacy datafeed has no such endpoint and
    asks for every period's file. If no file of a fetch holds data although the market was
    open, the fetch raises ``EmptyWhereDataExpectedError`` (transient) after ``empty_retries``
    re-asks per file, unless ``accept_empty`` (the caller's last attempt: the calendar knows no
    holidays, so a period that stays empty is then taken as having no data); a running period is
    never expected to hold data yet.
    """

    name = "dukascopy"

    def __init__(
        self,
        fetcher: Fetcher,
        api: Literal["legacy", "json"] = "json",
        price_side: Literal["bid", "ask", "mid"] = "bid",
        max_in_flight: int = 10,
        empty_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
        cache_dir: Path | None = None,
        drop_flats: bool = True,
        now: Callable[[], datetime] | None = None,
        accept_empty: bool = False,
    ) -> None:
        if api not in APIS:
            raise ValueError(f"unknown Dukascopy api {api!r}; expected one of {', '.join(APIS)}")
        if price_side not in PRICE_SIDES:
            raise ValueError(f"unknown price side {price_side!r}; expected one of {', '.join(PRICE_SIDES)}")
        self.api = api
        self.price_side = price_side
        self.drop_flats = drop_flats
        empty = is_empty_jetta if api == "json" else (lambda body: not body)
        self.loader = FileLoader(fetcher, empty, max_in_flight, empty_retries, sleep, cache_dir)
        if api == "json" and now is None:
            raise ValueError("the Dukascopy JSON API needs a clock: pass now, a callable returning the current UTC time")
        self.now = now
        self.accept_empty = accept_empty

    def supports(self, symbol: str, timeframe: str) -> bool:
        """True when Dukascopy has ``symbol`` and this source can deliver ``timeframe`` ("tick" or a bar)."""
        try:
            market = instrument(symbol)
        except ValueError:
            return False
        if market.dukascopy_divisor is None or (self.api == "json" and not market.dukascopy_code):
            return False
        return timeframe == "tick" or timeframe in SUPPORTED

    def fetch_ticks(self, symbol: str, start: datetime, end: datetime) -> Batch:
        """Every tick in the half-open UTC range [start, end), both sides, from the hourly files."""
        market, start, end = self._request(symbol, start, end)
        now = self._read_clock()
        plan = self._plan(start, end, "hour", now)
        jobs = self._jobs(market, plan, "hour", now, lambda hour: self._tick_path(market, hour),
                          lambda: urls.jetta_active_tick_path(str(market.dukascopy_code)))
        if self.api == "legacy":
            loaded = self.loader.load(jobs, decompress_bi5)
            ticks = ticks_from_records(
                [f.decoded for f in loaded], [urls.epoch_ms(hour) for hour, _ in plan],
                dukascopy_divisor(market.symbol), [f.path for f in loaded],
            )
        else:
            loaded_json = self.loader.load(jobs, _jetta_ticks)
            ticks = TickArrays.concat([f.decoded for f in loaded_json if len(f.decoded)])
            loaded = loaded_json  # type: ignore[assignment]
        if not self.accept_empty:
            require_expected_data(jobs, loaded, market.symbol, start, end, self.loader.asks)
        ticks = ticks.between(_ns(start), _ns(end))
        frame = ticks_to_frame(ticks, market.symbol, self.name)
        return Batch(self.name, market.symbol, "tick", frame, _raw(loaded))

    def fetch_bars(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> Batch:
        """Bars of ``timeframe`` starting in the half-open UTC range [start, end), from candle files."""
        timeframe_ns(timeframe)
        market, start, end = self._request(symbol, start, end)
        base = BASE_TIMEFRAME[timeframe]
        sides = ["bid", "ask"] if self.price_side == "mid" else [self.price_side]
        per_side: list[BarArrays] = []
        raw: list[RawPayload] = []
        for side in sides:
            bars, loaded = self._side_bars(market, side, base, start, end)
            per_side.append(bars)
            raw.extend(_raw(loaded))
        bars = per_side[0] if len(per_side) == 1 else _mid(per_side[0], per_side[1])
        if self.drop_flats:
            bars = bars.take(~flat_mask(bars))
        if timeframe != base:
            bars = resample_bars(bars, timeframe)
        bars = bars.take((bars.ts_ns >= _ns(start)) & (bars.ts_ns < _ns(end)))
        return Batch(self.name, market.symbol, timeframe, bars_to_frame(bars, market.symbol, timeframe, self.name),
                     tuple(raw))

    def _side_bars(
        self, market: MarketInstrument, side: str, base: str, start: datetime, end: datetime
    ) -> tuple[BarArrays, list[LoadedFile]]:
        _, period = urls.CANDLE_FILES[base]
        now = self._read_clock()
        plan = self._plan(start, end, period, now)
        jobs = self._jobs(market, plan, period, now, lambda begin: self._candle_path(market, side, base, begin),
                          lambda: urls.jetta_active_candle_path(str(market.dukascopy_code), side, base))
        if self.api == "legacy":
            loaded = self.loader.load(jobs, decompress_bi5)
            bars = candles_from_records(
                [f.decoded for f in loaded], [urls.epoch_ms(begin) for begin, _ in plan],
                dukascopy_divisor(market.symbol), [f.path for f in loaded],
            )
        else:
            loaded = self.loader.load(jobs, _jetta_candles)
            parts = [f.decoded for f in loaded if len(f.decoded)]
            if not self.drop_flats:
                parts = [fill_flats(part, timeframe_ns(base)) for part in parts]
            bars = BarArrays.concat(parts)
        if not self.accept_empty:
            require_expected_data(jobs, loaded, market.symbol, start, end, self.loader.asks)
        return bars, loaded

    def _read_clock(self) -> datetime | None:
        """now() once per fetch (None without a clock), so a fetch's plan and caching agree."""
        return urls.require_utc(self.now(), "now()") if self.now is not None else None

    def _plan(self, start: datetime, end: datetime, period: urls.Period,
              now: datetime | None) -> list[tuple[datetime, bool]]:
        """``(period start, still running)`` of each file to ask for.

        The legacy datafeed: every period of [start, end), none marked running (it has no such file).
        The JSON API: only periods begun before ``now()``, the one holding ``now()`` marked running.
        """
        if self.api == "legacy" or now is None:
            return [(begin, False) for begin in urls.periods_between(start, end, period)]
        return urls.periods_until(start, end, period, now)

    def _jobs(self, market: MarketInstrument, plan: list[tuple[datetime, bool]], period: urls.Period,
              now: datetime | None,
              completed_path: Callable[[datetime], str], running_path: Callable[[], str]) -> list[FileJob]:
        # A running period may hold nothing yet, so its empty answer is never suspicious.
        expected = _market_open_during(market, [begin for begin, _ in plan], period)
        # A period that ended moments ago may not be published whole yet: its body is not cached.
        return [
            FileJob(running_path(), False, urls.jetta_active_query(begin), complete=False) if running
            else FileJob(completed_path(begin), bool(open_),
                         complete=now is None or urls.next_period(begin, period) + CACHE_AFTER <= now)
            for (begin, running), open_ in zip(plan, expected)
        ]

    def _request(self, symbol: str, start: datetime, end: datetime) -> tuple[MarketInstrument, datetime, datetime]:
        start, end = urls.require_utc(start, "start"), urls.require_utc(end, "end")
        if start >= end:
            raise ValueError(f"start {start.isoformat()} must be before end {end.isoformat()}")
        market = instrument(symbol)
        dukascopy_divisor(market.symbol)  # raises for instruments Dukascopy does not carry
        if self.api == "json" and not market.dukascopy_code:
            raise ValueError(f"{market.symbol} has no Dukascopy JSON API code")
        return market, start, end

    def _tick_path(self, market: MarketInstrument, hour: datetime) -> str:
        if self.api == "legacy":
            return urls.legacy_tick_path(urls.legacy_symbol(market.dukascopy_code, market.symbol), hour)
        return urls.jetta_tick_path(str(market.dukascopy_code), hour)

    def _candle_path(self, market: MarketInstrument, side: str, base: str, start: datetime) -> str:
        if self.api == "legacy":
            return urls.legacy_candle_path(urls.legacy_symbol(market.dukascopy_code, market.symbol), side, base, start)
        return urls.jetta_candle_path(str(market.dukascopy_code), side, base, start)


def _market_open_during(market: MarketInstrument, starts: list[datetime], period: urls.Period) -> np.ndarray:
    """For each period, whether the market was open at some point: only then is an empty body suspicious."""
    if not starts:
        return np.zeros(0, dtype=bool)
    # Sample every half hour (sessions open and close on the hour), all periods in one calendar call.
    bounds = [(_ns(s), _ns(urls.next_period(s, period))) for s in starts]
    samples = [np.arange(lo, hi, _HOUR_NS // 2, dtype="int64") for lo, hi in bounds]
    first_sample = np.cumsum([0] + [len(s) for s in samples[:-1]])
    opened = is_open(market.calendar, np.concatenate(samples)).astype("int64")
    return np.add.reduceat(opened, first_sample) > 0


def _jetta_ticks(body: bytes, path: str) -> TickArrays:
    return TickArrays.empty() if is_empty_jetta(body) else decode_jetta_ticks(body, path)


def _jetta_candles(body: bytes, path: str) -> BarArrays:
    return BarArrays.empty() if is_empty_jetta(body) else decode_jetta_candles(body, path)


def _mid(bid: BarArrays, ask: BarArrays) -> BarArrays:
    # The JSON API omits flats per side, so keep only the slots both sides have.
    if len(bid) != len(ask) or not np.array_equal(bid.ts_ns, ask.ts_ns):
        common = np.intersect1d(bid.ts_ns, ask.ts_ns)
        bid = bid.take(np.isin(bid.ts_ns, common))
        ask = ask.take(np.isin(ask.ts_ns, common))
    return mid_bars(bid, ask)


def _raw(loaded: list[LoadedFile]) -> tuple[RawPayload, ...]:
    return tuple(RawPayload(f.path, f.body) for f in loaded if f.body)
