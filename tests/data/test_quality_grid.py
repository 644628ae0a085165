"""Hourly equity bars start at :30 UTC (New York opens at 09:30); the grid check accepts that, nothing else."""

import pandas as pd

from tradeloom.data.frames import Batch, bars_frame
from tradeloom.data.quality import validate_batch


def hourly(symbol: str, stamps: list[str]) -> Batch:
    n = len(stamps)
    frame = pd.DataFrame({"symbol": symbol, "timeframe": "1h", "source": "yahoo", "ts": pd.to_datetime(stamps, utc=True),
                          "open": [10.0] * n, "high": [11.0] * n, "low": [9.0] * n, "close": [10.5] * n, "volume": [1.0] * n})
    return Batch("yahoo", symbol, "1h", bars_frame(frame))


def test_equity_hours_on_the_half_hour_pass():
    report = validate_batch(hourly("AAPL", ["2024-10-02T13:30Z", "2024-10-02T14:30Z", "2024-10-02T15:30Z"]))
    assert report.success, report.summary()


def test_equity_hours_off_both_grids_fail_and_fx_keeps_the_whole_hour():
    off = validate_batch(hourly("AAPL", ["2024-10-02T13:15Z", "2024-10-02T14:30Z"]))
    assert not off.success and [f.unexpected_count for f in off.failed] == [1]
    fx = validate_batch(hourly("EURUSD", ["2024-10-02T13:30Z", "2024-10-02T14:30Z"]))
    assert not fx.success and [f.unexpected_count for f in fx.failed] == [2]
