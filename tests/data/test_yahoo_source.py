"""YahooSource: symbol resolution, look-back refusal, request splitting and batch assembly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.test_yahoo_parse import YF2, chart_body
from tradeloom.data.sources.yahoo import YahooSource, request_windows, yahoo_symbol
from tradeloom.errors import RejectedError

UTC = timezone.utc
EMPTY_CHART = b'{"chart":{"result":[{"meta":{"exchangeTimezoneName":"America/New_York"},' \
              b'"indicators":{"quote":[{}]}}],"error":null}}'


class ScriptedFetcher:
    """A Fetcher that answers each call with the next scripted body and records what it was asked."""

    def __init__(self, *bodies: bytes) -> None:
        self.bodies = list(bodies)
        self.calls: list[tuple[str, dict[str, str]]] = []

    def get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        self.calls.append((path, dict(params or {})))
        return self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def clock(text: str):
    return lambda: at(text)


def test_fetches_the_recorded_daily_request_with_epoch_seconds(fixtures: Path) -> None:
    fetcher = ScriptedFetcher(chart_body(fixtures / f"{YF2}/chart-AAPL-2020-08-31-to-2020-11-07.json"))
    source = YahooSource(fetcher, now=clock("2025-02-20T00:00"))
    batch = source.fetch_bars("AAPL", "1d", at("2020-08-31T00:00"), at("2020-11-07T00:00"))
    assert fetcher.calls == [("v8/finance/chart/AAPL", {
        "period1": "1598832000", "period2": "1604707200", "interval": "1d",
        "includePrePost": "false", "events": "div,splits"})]
    assert (batch.source, batch.symbol, batch.timeframe) == ("yahoo", "AAPL", "1d")
    assert len(batch.frame) == 49
    assert list(batch.actions["kind"]) == ["split", "dividend"]
    assert list(batch.actions["description"]) == ["4:1", ""]
    assert [p.name for p in batch.raw] == [
        "v8/finance/chart/AAPL?period1=1598832000&period2=1604707200&interval=1d&includePrePost=false"
        "&events=div%2Csplits"]
    assert batch.raw[0].body == fetcher.bodies[0]


def test_batch_is_cut_to_the_half_open_range(fixtures: Path) -> None:
    fetcher = ScriptedFetcher(chart_body(fixtures / f"{YF2}/chart-AAPL-2020-08-31-to-2020-11-07.json"))
    source = YahooSource(fetcher, now=clock("2025-02-20T00:00"))
    batch = source.fetch_bars("AAPL", "1d", at("2020-09-01T00:00"), at("2020-11-06T00:00"))
    assert batch.frame["ts"].iloc[0] == pd.Timestamp("2020-09-01", tz="UTC")
    assert batch.frame["ts"].iloc[-1] == pd.Timestamp("2020-11-05", tz="UTC")
    assert batch.actions.empty  # the split (08-31) and the dividend (11-06) fall outside


def test_fx_symbol_is_mapped_and_the_batch_keeps_tradeloom_name(fixtures: Path) -> None:
    fetcher = ScriptedFetcher(chart_body(fixtures / f"{YF2}/chart-EURUSD=X-2020-01-01-to-2020-01-03.json"))
    batch = YahooSource(fetcher, now=clock("2025-02-20T00:00")).fetch_bars(
        "EURUSD", "1d", at("2020-01-01T00:00"), at("2020-01-03T00:00"))
    assert fetcher.calls[0][0] == "v8/finance/chart/EURUSD=X"
    assert batch.symbol == "EURUSD" and set(batch.frame["symbol"]) == {"EURUSD"}
    assert len(batch.frame) == 2


def test_no_data_is_an_empty_batch(fixtures: Path) -> None:
    fetcher = ScriptedFetcher(
        chart_body(fixtures / f"{YF2}/chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json"))
    batch = YahooSource(fetcher, now=clock("2025-02-20T00:00")).fetch_bars(
        "AAPL", "1m", at("2025-02-01T00:00"), at("2025-02-02T00:00"))
    assert batch.frame.empty and batch.actions.empty and len(batch.raw) == 1


def test_one_minute_range_over_eight_days_is_split_into_windows() -> None:
    fetcher = ScriptedFetcher(EMPTY_CHART)
    source = YahooSource(fetcher, now=clock("2024-10-25T00:00"))
    source.fetch_bars("AAPL", "1m", at("2024-10-01T00:00"), at("2024-10-20T00:00"))
    windows = [(int(p["period1"]), int(p["period2"])) for _, p in fetcher.calls]
    day = 86_400
    first = int(at("2024-10-01T00:00").timestamp())
    assert windows == [(first, first + 8 * day), (first + 8 * day, first + 16 * day),
                       (first + 16 * day, first + 19 * day)]


def test_split_windows_are_merged_in_order() -> None:
    def chart(stamps: list[int]) -> bytes:
        n = len(stamps)
        return (f'{{"chart":{{"result":[{{"meta":{{"exchangeTimezoneName":"UTC"}},"timestamp":{stamps},'
                f'"indicators":{{"quote":[{{"open":{[1.0] * n},"high":{[2.0] * n},"low":{[0.5] * n},'
                f'"close":{[1.5] * n},"volume":{[10] * n}}}]}}}}],"error":null}}}}').encode()
    start = at("2024-10-01T00:00")
    s0 = int(start.timestamp())
    eight_days = 8 * 86_400
    fetcher = ScriptedFetcher(chart([s0, s0 + 60]), chart([s0 + eight_days, s0 + eight_days + 60]))
    batch = YahooSource(fetcher, now=clock("2024-10-20T00:00")).fetch_bars(
        "AAPL", "1m", start, at("2024-10-10T00:00"))
    assert [int(t.timestamp()) for t in batch.frame["ts"]] == [s0, s0 + 60, s0 + eight_days, s0 + eight_days + 60]
    assert len(batch.raw) == 2


@pytest.mark.parametrize(
    ("timeframe", "days_back", "limit"),
    [("1m", 31, 30), ("2m", 61, 60), ("5m", 61, 60), ("15m", 61, 60), ("30m", 61, 60), ("1h", 731, 730)],
)
def test_look_back_limits_refuse_before_any_call(timeframe: str, days_back: int, limit: int) -> None:
    fetcher = ScriptedFetcher(EMPTY_CHART)
    now = at("2025-03-01T12:00")
    source = YahooSource(fetcher, now=lambda: now)
    start = now - timedelta(days=days_back)
    with pytest.raises(RejectedError) as caught:
        source.fetch_bars("AAPL", timeframe, start, start + timedelta(hours=1))
    assert f"last {limit} days" in str(caught.value) and timeframe in str(caught.value)
    assert fetcher.calls == []
    # Just inside the limit, the same request goes out.
    inside = now - timedelta(days=limit) + timedelta(minutes=1)
    source.fetch_bars("AAPL", timeframe, inside, inside + timedelta(hours=1))
    assert len(fetcher.calls) == 1


def test_daily_history_has_no_look_back_limit() -> None:
    source = YahooSource(ScriptedFetcher(EMPTY_CHART), now=clock("2025-03-01T00:00"))
    source.check_request("AAPL", "1d", at("1985-01-01T00:00"), at("1986-01-01T00:00"))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("AAPL", "7d", at("2025-01-01T00:00"), at("2025-01-02T00:00")), "no timeframe '7d'"),
        (("AAPL", "1d", datetime(2025, 1, 1), at("2025-01-02T00:00")), "naive"),
        (("AAPL", "1d", at("2025-01-02T00:00"), at("2025-01-02T00:00")), "empty range"),
        (("bad symbol!", "1d", at("2025-01-01T00:00"), at("2025-01-02T00:00")), "'bad symbol!'"),
    ],
)
def test_bad_requests_are_value_errors_naming_the_problem(args: tuple, words: str) -> None:
    fetcher = ScriptedFetcher(EMPTY_CHART)
    with pytest.raises(ValueError) as caught:
        YahooSource(fetcher, now=clock("2025-03-01T00:00")).fetch_bars(*args)
    assert words in str(caught.value)
    assert fetcher.calls == []


def test_symbol_resolution() -> None:
    assert yahoo_symbol("EURUSD") == "EURUSD=X"
    assert yahoo_symbol("BTCUSD") == "BTC-USD"
    assert yahoo_symbol("XAUUSD") == "GC=F"
    assert yahoo_symbol("USA500IDXUSD") == "^GSPC"
    assert yahoo_symbol("NVDA") == "NVDA"  # unknown but well-formed: passed through


def test_supports() -> None:
    source = YahooSource(ScriptedFetcher(EMPTY_CHART), now=clock("2025-03-01T00:00"))
    assert source.supports("EURUSD", "1d") and source.supports("AAPL", "1m") and source.supports("AAPL", "1h")
    assert not source.supports("AAPL", "4h")
    assert not source.supports("not a ticker", "1d")


def test_request_windows_cover_the_range_exactly() -> None:
    start, end = at("2024-01-01T00:00"), at("2024-01-20T06:00")
    windows = request_windows("1m", start, end)
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert all(e - s <= timedelta(days=8) for s, e in windows)
    assert request_windows("1d", start, end) == [(start, end)]


@given(
    offset_minutes=st.integers(min_value=0, max_value=60 * 24 * 365),
    length_minutes=st.integers(min_value=1, max_value=60 * 24 * 40),
    timeframe=st.sampled_from(["1m", "5m", "1h", "1d"]),
)
def test_request_windows_tile_any_range_within_the_per_request_limit(
    offset_minutes: int, length_minutes: int, timeframe: str
) -> None:
    start = at("2020-01-01T00:00") + timedelta(minutes=offset_minutes)
    end = start + timedelta(minutes=length_minutes)
    windows = request_windows(timeframe, start, end)
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(s < e for s, e in windows) and all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    if timeframe == "1m":
        assert all(e - s <= timedelta(days=8) for s, e in windows)
        assert len(windows) == -(-length_minutes // (8 * 24 * 60))
