"""Yahoo chart v8 decoding against every recorded payload in ../shared/fixtures/yahoo (values from SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeloom.data.frames import ACTION_COLUMNS, BAR_COLUMNS
from tradeloom.data.sources.yahoo_parse import parse_chart, split_description, trading_dates
from tradeloom.errors import (
    CorruptPayloadError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
)

YF2 = "yahoo/node-yahoo-finance2"
SCHEB = "yahoo/scheb-yahoo-finance-api"


def f32(value: float) -> float:
    """Yahoo sends float32 prices widened to double: 74.06 arrives as 74.05999755859375."""
    return float(np.float32(value))


def chart_body(path: Path) -> bytes:
    """The chart JSON of a recorded file, unwrapping node-yahoo-finance2's {request, response} wrapper."""
    document = json.loads(path.read_bytes())
    if "response" not in document:
        return path.read_bytes()
    response = document["response"]
    if "bodyJson" in response:
        return json.dumps(response["bodyJson"]).encode()
    return response["body"].encode()


def recorded_period2(path: Path) -> int:
    """period2 of the recorded request (node-yahoo-finance2 wrappers keep the URL)."""
    url = json.loads(path.read_bytes())["request"]["url"]
    return int(url.split("period2=")[1].split("&")[0])


def parse(fixtures: Path, name: str, timeframe: str = "1d", symbol: str = "AAPL", period2: int | None = -1):
    path = fixtures / name
    if period2 == -1:
        period2 = recorded_period2(path)
    return parse_chart(chart_body(path), symbol=symbol, timeframe=timeframe, period2=period2, where=name)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_aapl_daily_bar_is_dated_by_the_new_york_trading_date(fixtures: Path) -> None:
    chart = parse(fixtures, f"{YF2}/chart-AAPL-2020-01-01-to-2020-01-03.json")
    bars = chart.bars
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert len(bars) == 1
    row = bars.iloc[0]
    assert row["ts"] == utc("2020-01-02")  # the bar itself is stamped 2020-01-02T14:30Z
    assert (row["open"], row["high"], row["low"], row["close"]) == (f32(74.06), f32(75.15), f32(73.7975), f32(75.0875))
    assert row["volume"] == 135480400.0
    assert row["adj_close"] == pytest.approx(72.716, abs=5e-4)
    assert (row["symbol"], row["timeframe"], row["source"]) == ("AAPL", "1d", "yahoo")
    assert chart.actions.empty


def test_split_and_dividend_become_actions_across_the_dst_change(fixtures: Path) -> None:
    chart = parse(fixtures, f"{YF2}/chart-AAPL-2020-08-31-to-2020-11-07.json")
    bars = chart.bars
    assert len(bars) == 49
    assert bars["ts"].iloc[0] == utc("2020-08-31") and bars["ts"].iloc[-1] == utc("2020-11-06")
    # Bars start 13:30Z in EDT and 14:30Z in EST; both must land on midnight of their date.
    assert (bars["ts"].dt.hour == 0).all() and bars["ts"].is_unique
    assert utc("2020-11-02") in set(bars["ts"])
    actions = chart.actions
    assert list(actions.columns) == list(ACTION_COLUMNS)
    assert actions[["ts", "kind", "value", "description"]].to_dict("records") == [
        {"ts": utc("2020-08-31"), "kind": "split", "value": 4.0, "description": "4:1"},
        {"ts": utc("2020-11-06"), "kind": "dividend", "value": 0.205, "description": ""},
    ]
    assert set(actions["symbol"]) == {"AAPL"} and set(actions["source"]) == {"yahoo"}


def test_one_minute_bars_drop_the_all_null_bar_and_the_stray_bar_after_period2(fixtures: Path) -> None:
    name = f"{YF2}/chart-AAPL-2024-10-02-to-2024-10-03-includePrePost-false-interval-1m.json"
    raw = json.loads(chart_body(fixtures / name))["chart"]["result"][0]
    assert len(raw["timestamp"]) == 391
    bars = parse(fixtures, name, timeframe="1m").bars
    assert len(bars) == 389
    stamps = set(bars["ts"])
    assert utc("2024-10-02T15:15") not in stamps  # all-null in the payload
    assert utc("2024-10-03T20:00") not in stamps  # the live bar after period2 = 2024-10-03T00:00Z
    assert utc("2024-10-02T15:14") in stamps and utc("2024-10-02T15:16") in stamps
    assert bars["ts"].iloc[0] == utc("2024-10-02T13:30") and bars["ts"].iloc[-1] == utc("2024-10-02T19:59")
    first = bars.iloc[0]
    assert (first["open"], first["close"], first["volume"]) == (f32(225.89), f32(225.7), 1205461.0)
    assert bars["adj_close"].isna().all()  # intraday charts carry no adjclose
    assert not bars[["open", "high", "low", "close", "volume"]].isna().any().any()


def test_without_period2_the_stray_bar_is_kept(fixtures: Path) -> None:
    name = f"{YF2}/chart-AAPL-2024-10-02-to-2024-10-03-includePrePost-false-interval-1m.json"
    bars = parse(fixtures, name, timeframe="1m", period2=None).bars
    assert len(bars) == 390 and bars["ts"].iloc[-1] == utc("2024-10-03T20:00")


@pytest.mark.parametrize(
    "name",
    [f"{YF2}/chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json", f"{SCHEB}/noData.json"],
)
def test_no_data_result_is_an_empty_frame(fixtures: Path, name: str) -> None:
    chart = parse(fixtures, name, timeframe="1m", period2=None)
    assert chart.bars.empty and chart.actions.empty
    assert list(chart.bars.columns) == list(BAR_COLUMNS)
    assert str(chart.bars["ts"].dtype) == "datetime64[ns, UTC]"


def test_tsla_thirty_minute_bars_keep_their_utc_start_and_zero_volume(fixtures: Path) -> None:
    bars = parse(fixtures, f"{YF2}/chart-TSLA-2021-11-22-to-2021-11-23-interval-30m.json", "30m", "TSLA").bars
    assert len(bars) == 30
    assert bars["ts"].iloc[0] == utc("2021-11-22T09:00") and bars["ts"].iloc[-1] == utc("2021-11-22T23:30")
    assert (bars["ts"].diff().dropna() == pd.Timedelta(minutes=30)).all()
    first = bars.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (1148.51, 1168.8, 1147.0, 1168.7)
    assert first["volume"] == 0.0


def test_fx_daily_is_dated_in_london(fixtures: Path) -> None:
    name = f"{YF2}/chart-EURUSD=X-2020-01-01-to-2020-01-03.json"
    # The 2020-01-03T00:00Z bar sits exactly at period2, so it is outside [period1, period2).
    assert list(parse(fixtures, name, symbol="EURUSD").bars["ts"]) == [utc("2020-01-01"), utc("2020-01-02")]
    bars = parse(fixtures, name, symbol="EURUSD", period2=None).bars
    assert list(bars["ts"]) == [utc("2020-01-01"), utc("2020-01-02"), utc("2020-01-03")]
    assert (bars["volume"] == 0.0).all()
    assert bars["close"].iloc[2] == f32(1.1171437501907349)


def test_crypto_daily_is_dated_in_utc(fixtures: Path) -> None:
    bars = parse(fixtures, f"{YF2}/chart-BTC-USD-2020-01-01-to-2020-01-03.json", symbol="BTCUSD", period2=None).bars
    assert list(bars["ts"]) == [utc("2020-01-01"), utc("2020-01-02"), utc("2020-01-03")]
    first = bars.iloc[0]
    assert first["open"] == pytest.approx(7194.892, abs=5e-4)
    assert first["close"] == pytest.approx(7200.174, abs=5e-4)
    assert first["volume"] == 18565664997.0


def test_gold_future_bar_at_five_utc_is_the_new_york_date(fixtures: Path) -> None:
    bars = parse(fixtures, f"{YF2}/chart-GC=F-2020-01-01-to-2020-01-03.json", symbol="GC=F").bars
    assert len(bars) == 1
    row = bars.iloc[0]
    assert row["ts"] == utc("2020-01-02")
    assert (row["open"], row["close"], row["volume"]) == (f32(1518.1), 1524.5, 214.0)


def test_xetra_stock_is_dated_in_berlin_without_the_weekend(fixtures: Path) -> None:
    bars = parse(fixtures, f"{YF2}/chart-WSU.DE-2023-08-04-to-2023-08-09.json", symbol="WSU.DE").bars
    assert list(bars["ts"]) == [utc("2023-08-04"), utc("2023-08-07"), utc("2023-08-08")]
    first = bars.iloc[0]
    assert (first["open"], first["close"], first["volume"]) == (34.25, f32(34.45), 1251.0)


def test_scheb_historical_data_first_row(fixtures: Path) -> None:
    bars = parse(fixtures, f"{SCHEB}/historicalData.json", period2=None).bars
    assert len(bars) == 10
    first = bars.iloc[0]
    assert first["ts"] == utc("2024-09-30")
    assert (first["open"], first["high"], first["low"], first["close"], first["adj_close"], first["volume"]) == (
        230.0399932861328, 233.0, 229.64999389648438, 233.0, 233.0, 54541900.0)


def test_monthly_split_data_dates_the_split_by_its_event_date(fixtures: Path) -> None:
    # The monthly chart keys the split by the month start (2020-08-01) but dates it 2020-08-31.
    period2 = int(utc("2024-10-11").timestamp())
    chart = parse(fixtures, f"{SCHEB}/splitData.json", timeframe="1mo", period2=period2)
    assert len(chart.bars) == 60  # 61 stamps, the last one a live row at 2024-10-11T20:00:01Z
    assert chart.bars["ts"].iloc[0] == utc("2019-11-01") and chart.bars["ts"].iloc[-1] == utc("2024-10-01")
    assert chart.actions[["ts", "kind", "value", "description"]].to_dict("records") == [
        {"ts": utc("2020-08-31"), "kind": "split", "value": 4.0, "description": "4:1"}
    ]


def transcribed_cases(fixtures: Path) -> dict[str, dict]:
    document = json.loads((fixtures / "yahoo/derived/chart-error-payloads.transcribed.json").read_bytes())
    return {case["case"]: case for case in document["cases"]}


@pytest.mark.parametrize(
    ("case", "expected", "words"),
    [
        ("unknown or delisted symbol", NotFoundError, "No data found, symbol may be delisted"),
        ("intraday range older than allowed look-back (5m > 60 days; 1h > 730 days; 1m > 30 days)",
         RejectedError, "must be within the last 60 days"),
        ("1m request spanning more than 8 days", RejectedError, "Only 8 days worth of 1m granularity"),
        ("invalid interval", RejectedError, "interval=7d is not supported"),
    ],
)
def test_transcribed_error_envelopes_become_typed_errors(fixtures: Path, case: str, expected: type, words: str) -> None:
    body = json.dumps(transcribed_cases(fixtures)[case]["body"]).encode()
    with pytest.raises(expected) as caught:
        parse_chart(body, symbol="AAPL", timeframe="5m", period2=None, where="test")
    assert type(caught.value) is expected
    assert words in str(caught.value)


def test_transcribed_plain_text_429_is_not_json(fixtures: Path) -> None:
    # As a 200 body the plain text is corrupt; over HTTP it arrives as a 429 (see test_yahoo_http).
    text = transcribed_cases(fixtures)["rate limited / blocked (edge)"]["body_text"].encode()
    with pytest.raises(CorruptPayloadError, match="not JSON"):
        parse_chart(text, symbol="AAPL", timeframe="1d", period2=None, where="test")


def test_rate_limit_envelope_is_retryable() -> None:
    body = b'{"chart":{"result":null,"error":{"code":"Too Many Requests","description":"slow down"}}}'
    with pytest.raises(RateLimitedError, match="slow down"):
        parse_chart(body, symbol="AAPL", timeframe="1d", period2=None, where="test")


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_empty_body_is_transient(body: bytes) -> None:
    with pytest.raises(TransientError, match="empty body"):
        parse_chart(body, symbol="AAPL", timeframe="1d", period2=None, where="test")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html><body>Oops</body></html>", "not JSON"),
        (b'{"finance": {}}', "no 'chart' object"),
        (b'{"chart": {"result": [], "error": null}}', "neither a result nor an error"),
        (b'{"chart":{"result":[{"meta":{},"timestamp":[1,2],"indicators":{"quote":[{"open":[1.0]}]}}]}}',
         "'open' has 1 values for 2 timestamps"),
        (b'{"chart":{"result":[{"meta":{"exchangeTimezoneName":"Mars/Olympus"},"timestamp":[]}]}}',
         "Mars/Olympus"),
    ],
)
def test_malformed_payloads_are_corrupt(body: bytes, words: str) -> None:
    with pytest.raises(CorruptPayloadError) as caught:
        parse_chart(body, symbol="AAPL", timeframe="1d", period2=None, where="test")
    assert words in str(caught.value)
    assert caught.value.payload == body


def test_partly_null_bars_are_kept_for_the_quality_checks_and_null_volume_is_zero() -> None:
    body = json.dumps({"chart": {"result": [{
        "meta": {"exchangeTimezoneName": "UTC"},
        "timestamp": [60, 120, 180],
        "indicators": {"quote": [{"open": [1.0, None, 2.0], "high": [1.5, None, None], "low": [0.5, None, 1.0],
                                  "close": [1.2, None, 1.5], "volume": [None, 5, 7]}]},
    }], "error": None}}).encode()
    bars = parse_chart(body, symbol="X", timeframe="1m", period2=None, where="test").bars
    assert list(bars["ts"]) == [utc("1970-01-01T00:01"), utc("1970-01-01T00:03")]
    assert list(bars["volume"]) == [0.0, 7.0]
    assert np.isnan(bars["high"].iloc[1])


@pytest.mark.parametrize(("numerator", "denominator", "text"), [(4, 1, "4:1"), (3, 2, "3:2"), (1, 10, "1:10"),
                                                                (7.0, 1.0, "7:1")])
def test_split_description(numerator: float, denominator: float, text: str) -> None:
    assert split_description(numerator, denominator) == text


def test_trading_dates_in_tokyo_can_differ_from_the_utc_date() -> None:
    from zoneinfo import ZoneInfo

    ts = pd.DatetimeIndex([utc("2024-01-04T23:30")])
    assert list(trading_dates(ts, ZoneInfo("Asia/Tokyo"))) == [utc("2024-01-05")]
