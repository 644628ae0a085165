"""Alpha Vantage decoding against every recorded payload in ../shared/fixtures/alphavantage (SOURCES.md values)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeloom.data.frames import BAR_COLUMNS
from tradeloom.data.sources.alphavantage_parse import Shape, notice_error, parse_csv, parse_json
from tradeloom.errors import AuthError, CorruptPayloadError, RateLimitedError, RejectedError, TransientError

CGJ = "alphavantage/crazzyghost-alphavantage-java"
MSFT = "alphavantage/romeltorres-alpha_vantage/mock_time_series.json"
FAKE_KEY = "SECRETKEY-7f3a9c"

STOCK_HEADER = "timestamp,open,high,low,close,volume"
ADJUSTED_HEADER = "timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient"
FX_HEADER = "timestamp,open,high,low,close"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def load(fixtures: Path, name: str) -> dict:
    return json.loads((fixtures / name).read_bytes())


def csv_from_json(document: dict, header: str) -> bytes:
    """A datatype=csv body with the same rows as a JSON fixture (no real CSV was recorded; SPECS.md §3.3
    gives the headers), newest first as Alpha Vantage sends them."""
    series = next(v for k, v in document.items() if k.startswith("Time Series"))
    names = header.split(",")[1:]
    lines = [header]
    for stamp, values in series.items():
        by_name = {k.split(". ", 1)[1].replace(" ", "_"): v for k, v in values.items()}
        lines.append(",".join([stamp, *(by_name[n] for n in names)]))
    return ("\r\n".join(lines) + "\r\n").encode()


def row(bars: pd.DataFrame, ts: str) -> pd.Series:
    match = bars[bars["ts"] == utc(ts)]
    assert len(match) == 1, f"no single bar at {ts}"
    return match.iloc[0]


def ohlcv(r: pd.Series) -> tuple[float, ...]:
    return (r["open"], r["high"], r["low"], r["close"], r["volume"])


IBM_DAILY = Shape("IBM", "1d", "US/Eastern")


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_ibm_daily(fixtures: Path, datatype: str) -> None:
    document = load(fixtures, f"{CGJ}/timeseries-daily.json")
    if datatype == "json":
        series = parse_json(json.dumps(document).encode(), IBM_DAILY, "test")
    else:
        series = parse_csv(csv_from_json(document, STOCK_HEADER), IBM_DAILY, "test")
    bars = series.bars
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert list(bars["ts"]) == [utc("2020-05-07"), utc("2020-05-08")]  # ascending, midnight of the date
    assert ohlcv(row(bars, "2020-05-08")) == (122.67, 122.8, 121.06, 121.79, 2538547.0)
    assert ohlcv(row(bars, "2020-05-07")) == (122.98, 123.26, 120.85, 121.23, 4412047.0)
    assert bars["adj_close"].isna().all() and series.actions.empty
    assert set(bars["source"]) == {"alphavantage"} and set(bars["symbol"]) == {"IBM"}


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_ibm_daily_adjusted_with_its_dividend(fixtures: Path, datatype: str) -> None:
    document = load(fixtures, f"{CGJ}/timeseries-dailyadjusted.json")
    shape = Shape("IBM", "1d", "US/Eastern", with_actions=True)
    if datatype == "json":
        series = parse_json(json.dumps(document).encode(), shape, "test")
    else:
        series = parse_csv(csv_from_json(document, ADJUSTED_HEADER), shape, "test")
    latest = row(series.bars, "2020-05-08")
    assert ohlcv(latest) == (122.67, 122.8, 121.06, 121.805, 2542577.0)
    assert latest["adj_close"] == 121.805
    assert row(series.bars, "2020-05-07")["volume"] == 4412047.0
    # 2020-05-07 paid 1.63; both split coefficients are 1 (no split).
    assert series.actions[["ts", "kind", "value", "description"]].to_dict("records") == [
        {"ts": utc("2020-05-07"), "kind": "dividend", "value": 1.63, "description": ""}]
    assert list(series.actions["symbol"]) == ["IBM"]


def test_split_coefficient_becomes_a_split_action() -> None:
    body = json.dumps({"Meta Data": {"5. Time Zone": "US/Eastern"}, "Time Series (Daily)": {"2020-08-31": {
        "1. open": "127.58", "2. high": "131.0", "3. low": "126.0", "4. close": "129.04",
        "5. adjusted close": "128.2", "6. volume": "225702700", "7. dividend amount": "0.0000",
        "8. split coefficient": "4.0"}}}).encode()
    series = parse_json(body, Shape("AAPL", "1d", "US/Eastern", with_actions=True), "test")
    assert series.actions[["ts", "kind", "value", "description"]].to_dict("records") == [
        {"ts": utc("2020-08-31"), "kind": "split", "value": 4.0, "description": "4:1"}]


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_ibm_intraday_is_converted_from_new_york_time(fixtures: Path, datatype: str) -> None:
    document = load(fixtures, f"{CGJ}/timeseries-intraday.json")
    shape = Shape("IBM", "5m", "US/Eastern")
    body = json.dumps(document).encode() if datatype == "json" else csv_from_json(document, STOCK_HEADER)
    bars = (parse_json if datatype == "json" else parse_csv)(body, shape, "test").bars
    assert list(bars["ts"]) == [utc("2020-05-08T18:00"), utc("2020-05-08T18:05")]  # 14:00/14:05 EDT
    assert ohlcv(row(bars, "2020-05-08T18:05")) == (121.79, 121.86, 121.7225, 121.74, 31454.0)


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_msft_compact_intraday_has_100_rows_in_utc(fixtures: Path, datatype: str) -> None:
    document = load(fixtures, MSFT)
    shape = Shape("MSFT", "1m", "US/Eastern")
    body = json.dumps(document).encode() if datatype == "json" else csv_from_json(document, STOCK_HEADER)
    bars = (parse_json if datatype == "json" else parse_csv)(body, shape, "test").bars
    assert len(bars) == 100
    assert bars["ts"].iloc[0] == utc("2017-12-18T18:17") and bars["ts"].iloc[-1] == utc("2017-12-18T19:56")  # EST
    assert bars["ts"].is_monotonic_increasing and bars["ts"].is_unique
    assert ohlcv(bars.iloc[-1]) == (86.49, 86.5, 86.475, 86.5, 10494.0)


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_fx_daily_has_zero_volume(fixtures: Path, datatype: str) -> None:
    document = load(fixtures, f"{CGJ}/forex-daily.json")
    shape = Shape("EURUSD", "1d", "UTC")
    body = json.dumps(document).encode() if datatype == "json" else csv_from_json(document, FX_HEADER)
    bars = (parse_json if datatype == "json" else parse_csv)(body, shape, "test").bars
    assert list(bars["ts"]) == [utc("2020-05-05"), utc("2020-05-06")]
    assert ohlcv(row(bars, "2020-05-06")) == (1.0839, 1.0844, 1.078, 1.0794, 0.0)


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_fx_intraday_is_utc(fixtures: Path, datatype: str) -> None:
    document = load(fixtures, f"{CGJ}/forex-intraday.json")
    shape = Shape("EURUSD", "5m", "UTC")
    body = json.dumps(document).encode() if datatype == "json" else csv_from_json(document, FX_HEADER)
    bars = (parse_json if datatype == "json" else parse_csv)(body, shape, "test").bars
    assert list(bars["ts"]) == [utc("2020-05-06T21:50"), utc("2020-05-06T21:55")]
    assert ohlcv(row(bars, "2020-05-06T21:55")) == (1.0795, 1.0795, 1.0792, 1.0794, 0.0)


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_crypto_daily_current_format(fixtures: Path, datatype: str) -> None:
    document = load(fixtures, f"{CGJ}/crypto-daily.json")
    shape = Shape("BTCEUR", "1d", "UTC", market="EUR")
    # No real DIGITAL_CURRENCY_DAILY CSV was found (SPECS.md §3.3); the stock header is assumed.
    body = json.dumps(document).encode() if datatype == "json" else csv_from_json(document, STOCK_HEADER)
    bars = (parse_json if datatype == "json" else parse_csv)(body, shape, "test").bars
    assert list(bars["ts"]) == [utc("2025-08-22"), utc("2025-08-23"), utc("2025-08-24")]
    assert ohlcv(bars.iloc[0]) == (96856.83, 100149.0, 96171.51, 99313.95, 260.30828027)


def test_crypto_daily_legacy_format_takes_the_market_currency(fixtures: Path) -> None:
    document = load(fixtures, f"{CGJ}/crypto-daily-legacy-2020-format.json")
    bars = parse_json(json.dumps(document).encode(), Shape("BTCCNY", "1d", "UTC", market="CNY"), "test").bars
    assert list(bars["ts"]) == [utc("2020-05-03"), utc("2020-05-04")]
    assert ohlcv(row(bars, "2020-05-04")) == (62793.588415, 63089.75961, 62092.449884, 62286.885038, 2328.295447)
    # With USD as the market (Meta Data says so), the "(USD)" columns are taken.
    document["Meta Data"]["4. Market Code"] = "USD"
    bars = parse_json(json.dumps(document).encode(), Shape("BTCUSD", "1d", "UTC", market="USD"), "test").bars
    assert ohlcv(row(bars, "2020-05-04")) == (8894.15, 8936.1, 8794.84, 8822.38, 2328.295447)


def transcribed(fixtures: Path) -> list[dict]:
    return load(fixtures, "alphavantage/derived/error-payloads.transcribed.json")["cases"]


EXPECTED = {
    "invalid call (bad symbol/function/params)": RejectedError,
    "missing/invalid apikey": AuthError,
    "daily quota exhausted (free tier, 2024+ wording)": RejectedError,  # nothing to retry until tomorrow
    "burst limit (free tier)": RateLimitedError,
    "per-minute/day limit (legacy wording, pre-2024)": RateLimitedError,
    "premium-only endpoint (e.g. TIME_SERIES_DAILY_ADJUSTED, FX_INTRADAY on free key)": RejectedError,
    "demo key used for anything but the documented demo URLs": RejectedError,
}


def test_every_transcribed_notice_maps_to_its_error_class(fixtures: Path) -> None:
    cases = transcribed(fixtures)
    assert {c["case"] for c in cases} == set(EXPECTED)
    for case in cases:
        body = json.dumps(case.get("body") or case["body_fragment"]).encode()
        for parse in (parse_json, parse_csv):  # notices arrive as JSON even for datatype=csv
            with pytest.raises(EXPECTED[case["case"]]) as caught:
                parse(body, IBM_DAILY, "query?function=TIME_SERIES_DAILY")
            assert type(caught.value) is EXPECTED[case["case"]], case["case"]
            assert "query?function=TIME_SERIES_DAILY" in str(caught.value)
    burst = next(c for c in cases if c["case"] == "burst limit (free tier)")
    error = notice_error(burst["body_fragment"], "test")
    assert isinstance(error, RateLimitedError) and error.retry_after == 1.0


def test_notices_are_found_before_the_series_and_under_note_too() -> None:
    body = {"Note": "Our standard API call frequency is 5 calls per minute and 500 calls per day.", "Time Series (Daily)": {}}
    with pytest.raises(RateLimitedError, match="5 calls per minute"):
        parse_json(json.dumps(body).encode(), IBM_DAILY, "test")


def test_a_notice_echoing_the_key_is_scrubbed(fixtures: Path) -> None:
    quota = next(c for c in transcribed(fixtures) if c["case"].startswith("daily quota"))
    variant = quota["variants"][0].strip("'").replace("<KEY>", FAKE_KEY)
    with pytest.raises(RejectedError) as caught:
        parse_json(json.dumps({"Information": variant}).encode(), IBM_DAILY, "test", secrets=(FAKE_KEY,))
    assert FAKE_KEY not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize("parse", [parse_json, parse_csv])
def test_empty_body_is_transient(parse) -> None:
    with pytest.raises(TransientError, match="empty body"):
        parse(b"", IBM_DAILY, "test")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>502</html>", "not JSON"),
        (b"[]", "not a JSON object"),
        (b"{}", "no time series"),
        (b'{"Meta Data": {}, "Time Series (Daily)": {"2020-05-08": {"1. open": "x", "2. high": "1", '
         b'"3. low": "1", "4. close": "1"}}}', "'open' in the answer to test is not numeric"),
        (b'{"Time Series (Daily)": {"2020-05-08": {"1. open": "1"}}}', "lacks ['high', 'low', 'close']"),
        (b'{"Time Series (Daily)": {"08/05/2020": {"1. open": "1", "2. high": "1", "3. low": "1", "4. close": "1"}}}',
         "bad timestamps"),
    ],
)
def test_malformed_json_is_corrupt(body: bytes, words: str) -> None:
    with pytest.raises(CorruptPayloadError) as caught:
        parse_json(body, IBM_DAILY, "test")
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"date,open\n2020-05-08,1\n", "does not start with a timestamp column"),
        (b"timestamp,open,high,low,close\n2020-05-08,1,2\n", "another width"),
    ],
)
def test_malformed_csv_is_corrupt(body: bytes, words: str) -> None:
    with pytest.raises(CorruptPayloadError, match=words):
        parse_csv(body, IBM_DAILY, "test")


def test_empty_series_is_an_empty_frame() -> None:
    series = parse_json(b'{"Meta Data": {}, "Time Series (Daily)": {}}', IBM_DAILY, "test")
    assert series.bars.empty and list(series.bars.columns) == list(BAR_COLUMNS)
    assert parse_csv(STOCK_HEADER.encode() + b"\r\n", IBM_DAILY, "test").bars.empty


def test_volume_is_float_and_adj_close_nan_without_adjustment(fixtures: Path) -> None:
    bars = parse_json((fixtures / f"{CGJ}/timeseries-daily.json").read_bytes(), IBM_DAILY, "test").bars
    assert bars["volume"].dtype == np.float64 and bars["adj_close"].isna().all()
