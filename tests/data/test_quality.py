"""Great Expectations suites: each expectation fails, with its exact count, on a frame built to break it."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pytest

from tradeloom.data.frames import Batch, bars_frame, ticks_frame
from tradeloom.data.quality import FailedCheck, ValidationReport, validate_batch

PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
BETWEEN = "expect_column_values_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE = "expect_column_values_to_be_unique"
INCREASING = "expect_column_values_to_be_increasing"
MONDAY = pd.Timestamp("2019-02-04", tz="UTC")  # the FX market is open all day


def bars(n: int = 10, timeframe: str = "1m", symbol: str = "EURUSD", start: pd.Timestamp = MONDAY) -> pd.DataFrame:
    step = pd.Timedelta(timeframe.replace("m", "min"))
    return bars_frame(pd.DataFrame({
        "symbol": symbol, "timeframe": timeframe, "ts": [start + i * step for i in range(n)],
        "open": 1.10, "high": 1.12, "low": 1.08, "close": 1.11, "volume": 5.0, "source": "dukascopy",
    }))


def ticks(n: int = 10) -> pd.DataFrame:
    return ticks_frame(pd.DataFrame({
        "symbol": "EURUSD", "ts": [MONDAY + pd.Timedelta(milliseconds=250 * i) for i in range(n)],
        "bid": 1.1000, "ask": 1.1002, "bid_volume": 1.0, "ask_volume": 2.0, "source": "dukascopy",
    }))


def failures(report: ValidationReport) -> dict[tuple[str, str | None], int]:
    return {(c.expectation, c.column): c.unexpected_count for c in report.failed}


def _set(frame: pd.DataFrame, rows: list[int], **values: object) -> pd.DataFrame:
    for column, value in values.items():
        frame.loc[rows, column] = value
    return frame


BAR_BREAKS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], dict[tuple[str, str | None], int]]] = {
    "high below close": (lambda f: _set(f, [3], high=1.105), {(PAIR, "high,close"): 1}),
    "high below open": (lambda f: _set(f, [2, 5], open=1.115, high=1.114), {(PAIR, "high,open"): 2}),
    "low above open": (lambda f: _set(f, [1, 2, 7], open=1.079), {(PAIR, "open,low"): 3}),
    "low above close": (lambda f: _set(f, [9], close=1.075), {(PAIR, "close,low"): 1}),
    "low not positive": (lambda f: _set(f, [4, 6], low=-0.5), {(BETWEEN, "low"): 2}),
    "open zero (below low too)": (lambda f: _set(f, [4], open=0.0, low=-0.5),
                                  {(BETWEEN, "open"): 1, (BETWEEN, "low"): 1}),
    "close missing": (lambda f: _set(f, [0, 8], close=np.nan), {(NOT_NULL, "close"): 2}),
    "volume negative": (lambda f: _set(f, [5], volume=-1.0), {(BETWEEN, "volume"): 1}),
    "ts repeated": (lambda f: _set(f, [5], ts=MONDAY + pd.Timedelta(minutes=4)),
                    {(UNIQUE, "ts"): 2, (INCREASING, "ts"): 1}),
    "ts out of order": (lambda f: _set(f, [2], ts=MONDAY + pd.Timedelta(minutes=3))
                        .pipe(_set, [3], ts=MONDAY + pd.Timedelta(minutes=2)), {(INCREASING, "ts"): 1}),
    "ts off the grid": (lambda f: _set(f, [6, 7], ts=[MONDAY + pd.Timedelta(minutes=m, seconds=30) for m in (6, 7)]),
                        {(BETWEEN, "ts"): 2}),
    "ts missing": (lambda f: _set(f, [3], ts=pd.NaT), {(NOT_NULL, "ts"): 1}),
}


@pytest.mark.parametrize("case", list(BAR_BREAKS))
def test_each_bar_expectation_fails_with_its_exact_count(case: str) -> None:
    breaker, expected = BAR_BREAKS[case]

    report = validate_batch(Batch("dukascopy", "EURUSD", "1m", breaker(bars())))

    assert (report.success, report.rows, failures(report)) == (False, 10, expected)


TICK_BREAKS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], dict[tuple[str, str | None], int]]] = {
    "bid above ask": (lambda f: _set(f, [3, 4], bid=1.1005), {(PAIR, "ask,bid"): 2}),
    "bid zero": (lambda f: _set(f, [1], bid=0.0), {(BETWEEN, "bid"): 1}),
    "ask negative (below bid too)": (lambda f: _set(f, [6], ask=-1.0), {(BETWEEN, "ask"): 1, (PAIR, "ask,bid"): 1}),
    "ask missing": (lambda f: _set(f, [2, 3, 4], ask=np.nan), {(NOT_NULL, "ask"): 3}),
    "volume negative": (lambda f: _set(f, [0], ask_volume=-2.0), {(BETWEEN, "ask_volume"): 1}),
    "ts goes back": (lambda f: _set(f, [5], ts=MONDAY), {(INCREASING, "ts"): 1}),
}


@pytest.mark.parametrize("case", list(TICK_BREAKS))
def test_each_tick_expectation_fails_with_its_exact_count(case: str) -> None:
    breaker, expected = TICK_BREAKS[case]

    report = validate_batch(Batch("dukascopy", "EURUSD", "tick", breaker(ticks())))

    assert (report.success, failures(report)) == (False, expected)


def test_clean_batches_pass() -> None:
    assert validate_batch(Batch("dukascopy", "EURUSD", "1m", bars())) == ValidationReport(True, [], [], 10)
    assert validate_batch(Batch("dukascopy", "EURUSD", "tick", ticks())) == ValidationReport(True, [], [], 10)


def test_ticks_may_share_a_millisecond_and_bid_may_equal_ask() -> None:
    frame = _set(ticks(), [4], ts=MONDAY + pd.Timedelta(milliseconds=750), bid=1.1002)

    assert validate_batch(Batch("dukascopy", "EURUSD", "tick", frame)).success


def test_daily_bars_sit_on_midnight_and_4h_bars_on_the_utc_4h_grid() -> None:
    daily = bars(5, "1d")
    four_hour = bars(5, "4h", start=MONDAY + pd.Timedelta(hours=1))

    assert validate_batch(Batch("yahoo", "EURUSD", "1d", daily)).success
    assert failures(validate_batch(Batch("yahoo", "EURUSD", "4h", four_hour))) == {(BETWEEN, "ts"): 5}


def test_empty_batch_is_valid() -> None:
    assert validate_batch(Batch("yahoo", "AAPL", "1d", bars_frame())) == ValidationReport(True, [], [], 0)
    assert validate_batch(Batch("dukascopy", "EURUSD", "tick", ticks_frame())) == ValidationReport(True, [], [], 0)


def test_summary_names_each_failed_expectation_and_its_row_count() -> None:
    frame = _set(bars(), [3], high=1.105)
    frame = _set(frame, [6, 7], low=-0.5)

    report = validate_batch(Batch("dukascopy", "EURUSD", "1m", frame))

    assert report.summary() == (
        "2 expectation(s) failed on 10 rows: "
        "expect_column_values_to_be_between(low) [low > 0; e.g. -0.5, -0.5]: 2 rows; "
        "expect_column_pair_values_a_to_be_greater_than_b(high,close) [high >= close; e.g. (1.105, 1.11)]: 1 row"
    )
    assert report.failed_checks()[1] == {
        "expectation": PAIR, "column": "high,close", "unexpected_count": 1, "detail": "high >= close; e.g. (1.105, 1.11)"}


def test_unknown_timeframe_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown timeframe '7m'"):
        validate_batch(Batch("dukascopy", "EURUSD", "7m", bars()))


def test_gaps_in_open_hours_warn_but_do_not_fail() -> None:
    hours = [MONDAY + pd.Timedelta(hours=h) for h in (0, 1, 5, 6)]
    frame = bars_frame(bars(4).assign(timeframe="1h", ts=hours))

    report = validate_batch(Batch("dukascopy", "EURUSD", "1h", frame))

    assert (report.success, report.failed) == (True, [])
    assert report.warnings == [
        "gap in EURUSD 1h from 2019-02-04T01:00:00+00:00 to 2019-02-04T05:00:00+00:00: "
        "3 missing 1h bar(s) while the fx market is open"
    ]
    assert report.summary() == "4 rows passed validation; 1 warning(s)"


def test_weekend_gap_is_explained_by_the_fx_calendar_but_not_for_an_unknown_24x7_symbol() -> None:
    friday = pd.Timestamp("2019-02-08 20:00", tz="UTC")
    hours = [friday, friday + pd.Timedelta(hours=1), pd.Timestamp("2019-02-10 22:00", tz="UTC")]
    fx = bars_frame(bars(3).assign(timeframe="1h", ts=hours))
    unknown = bars_frame(fx.assign(symbol="FOOBAR"))

    assert validate_batch(Batch("dukascopy", "EURUSD", "1h", fx)).warnings == []
    assert validate_batch(Batch("dukascopy", "FOOBAR", "1h", unknown)).warnings == [
        "gap in FOOBAR 1h from 2019-02-08T21:00:00+00:00 to 2019-02-10T22:00:00+00:00: "
        "48 missing 1h bar(s) while the 24x7 market is open"
    ]


def test_tick_gap_of_open_hours_warns() -> None:
    frame = _set(ticks(2), [1], ts=MONDAY + pd.Timedelta(hours=2, minutes=30))

    report = validate_batch(Batch("dukascopy", "EURUSD", "tick", frame))

    assert report.success
    assert report.warnings == [
        "gap in EURUSD tick from 2019-02-04T00:00:00+00:00 to 2019-02-04T02:30:00+00:00: "
        "2 hour(s) without a tick while the fx market is open"
    ]


def test_failed_check_fields() -> None:
    check = FailedCheck("expect_column_values_to_be_unique", "ts", 2, "ts is unique")
    assert ValidationReport(False, [check], [], 3).summary() == (
        "1 expectation(s) failed on 3 rows: expect_column_values_to_be_unique(ts) [ts is unique]: 2 rows")
