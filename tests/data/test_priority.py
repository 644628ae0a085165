"""The most specific priority entry decides the order of sources."""

from tradeloom.data.priority import DEFAULT_ORDER, sources_for

TABLE = {"EURUSD:1d": ["dukascopy", "yahoo", "alphavantage"], "AAPL": ["yahoo", "alphavantage"], "*": ["dukascopy"]}


def test_symbol_and_timeframe_beats_symbol_beats_wildcard():
    assert sources_for(TABLE, "EURUSD", "1d") == ["dukascopy", "yahoo", "alphavantage"]
    assert sources_for(TABLE, "AAPL", "1m") == ["yahoo", "alphavantage"]
    assert sources_for(TABLE, "BTCUSD", "1h") == ["dukascopy"]


def test_without_any_entry_the_default_order_applies():
    assert sources_for({}, "EURUSD", "1d") == list(DEFAULT_ORDER) == ["dukascopy", "yahoo", "alphavantage"]
