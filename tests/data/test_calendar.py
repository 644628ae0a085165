"""Trading calendars decide which gaps are warnings."""

import numpy as np
import pandas as pd
import pytest

from tradeloom.data.calendar import is_open, is_trading_day, unexpected_gaps

MINUTE = 60_000_000_000
DAY = 86_400_000_000_000


def ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def test_fx_week_follows_new_york_17h_in_winter_and_summer():
    stamps = np.array([
        ns("2019-02-01T21:59"),  # Friday 16:59 New York (EST): open
        ns("2019-02-01T22:00"),  # Friday 17:00 New York: closed
        ns("2019-02-03T21:59"),  # Sunday 16:59 New York: closed
        ns("2019-02-03T22:00"),  # Sunday 17:00 New York: open
        ns("2020-05-01T20:59"),  # Friday 16:59 New York (EDT): open
        ns("2020-05-01T21:00"),  # Friday 17:00 New York (EDT): closed
    ])
    assert is_open("fx", stamps).tolist() == [True, False, False, True, True, False]


def test_equity_regular_session_only():
    stamps = np.array([ns("2024-10-02T13:29"), ns("2024-10-02T13:30"), ns("2024-10-02T19:59"), ns("2024-10-02T20:00")])
    assert is_open("equity", stamps).tolist() == [False, True, True, False]


def test_trading_days_skip_weekends_except_for_crypto():
    days = np.array([ns("2019-02-01"), ns("2019-02-02"), ns("2019-02-03"), ns("2019-02-04")])  # Fri..Mon
    assert is_trading_day("fx", days).tolist() == [True, False, False, True]
    assert is_trading_day("24x7", days).tolist() == [True, True, True, True]


def test_weekend_gap_in_fx_minutes_is_expected_but_a_midweek_hole_is_not():
    friday_close = ns("2019-02-01T21:59")
    sunday_open = ns("2019-02-03T22:00")
    assert unexpected_gaps("fx", np.array([friday_close, sunday_open]), MINUTE) == []
    tuesday = ns("2019-02-05T10:00")
    gaps = unexpected_gaps("fx", np.array([tuesday, tuesday + 6 * MINUTE]), MINUTE)
    assert gaps == [(tuesday, tuesday + 6 * MINUTE, 5)]


def test_daily_gaps_count_missing_weekdays_only():
    friday, tuesday = ns("2019-02-01"), ns("2019-02-05")
    assert unexpected_gaps("equity", np.array([friday, tuesday]), DAY) == [(friday, tuesday, 1)]
    assert unexpected_gaps("24x7", np.array([friday, tuesday]), DAY) == [(friday, tuesday, 3)]


def test_unknown_calendar_is_named():
    with pytest.raises(ValueError, match="unknown calendar 'moon'"):
        is_open("moon", np.array([0]))
