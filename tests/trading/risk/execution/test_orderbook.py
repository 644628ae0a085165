"""Order-book analysis with hand-computed depth, slippage and passive prices."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeloom.trading.orders import Side
from tradeloom.trading.risk.execution.orderbook import (
    BookLevel,
    OrderBook,
    depth_within_band,
    expected_slippage,
    liquidity_score,
    optimal_entry_price,
)


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(tuple(BookLevel(D(p), D(q)) for p, q in bids), tuple(BookLevel(D(p), D(q)) for p, q in asks))


BOOK = book([("99.9", "10"), ("99.5", "20"), ("98", "100")], [("100.1", "5"), ("100.5", "10"), ("102", "100")])


def test_spread_mid_and_depth_in_the_band() -> None:
    assert (BOOK.mid, BOOK.spread_pct) == (D(100), D("0.2"))
    # within 0.5% of 100: bids 99.9x10 + 99.5x20, asks 100.1x5 + 100.5x10
    assert depth_within_band(BOOK, D("0.5")) == D("999") + D("1990") + D("500.5") + D("1005")
    assert liquidity_score(BOOK, D("0.5"), D(8989)) == D("0.5")
    assert liquidity_score(BOOK, D("0.5"), D(1000)) == 1


def test_walking_the_book() -> None:
    buy = expected_slippage(BOOK, Side.BUY, D(10))  # 5 at 100.1 + 5 at 100.5 = 1003
    assert (buy.average_price, buy.worst_price, buy.unfilled, buy.slippage_pct) == (D("100.3"), D("100.5"), 0, D("0.3"))
    sell = expected_slippage(BOOK, Side.SELL, D(200))
    assert (sell.filled, sell.unfilled, sell.worst_price) == (D(130), D(70), D(98))
    assert sell.slippage_pct == (D(100) - (D(999) + D(1990) + D(9800)) / 130) * 100 / 100


def test_optimal_entry_steps_inside_a_wide_spread_and_joins_a_tight_one() -> None:
    assert optimal_entry_price(BOOK, Side.BUY, D("0.05")) == D("99.95")
    assert optimal_entry_price(BOOK, Side.SELL, D("0.05")) == D("100.05")
    assert optimal_entry_price(BOOK, Side.BUY, D("0.1")) == D("99.9")  # spread of two ticks: join


def test_bad_books_are_named() -> None:
    with pytest.raises(ValueError, match="crossed book"):
        book([("101", "1")], [("100", "1")])
    with pytest.raises(ValueError, match="sorted best first"):
        book([("99", "1"), ("99.5", "1")], [("100", "1")])
    with pytest.raises(ValueError, match="at least one bid"):
        book([], [("100", "1")])
