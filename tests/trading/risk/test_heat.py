"""Portfolio heat: the issue's scenarios, cluster caps, and correlation clusters."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.risk.heat import HeatBook, HeatConfig, correlation_clusters, fit_entry, loss_to_stop

EQUITY = D(100_000)


def _book(*risks: D, symbols: tuple[str, ...] = ("A", "B", "C")) -> HeatBook:
    book = HeatBook()
    for index, (risk, symbol) in enumerate(zip(risks, symbols)):
        book.set(f"p{index}", symbol, risk)
    return book


def test_three_positions_at_two_percent_fill_the_cap_and_a_fourth_is_refused() -> None:
    # entry 100, stop 95, 400 units: 2,000 = 2% of 100,000 each
    risk = loss_to_stop(1, D(100), D(95), D(400))
    assert risk == D(2000)
    book = _book(risk, risk, risk)
    decision = fit_entry(book, HeatConfig(), EQUITY, "D", risk)
    assert decision.refused and decision.allowed_risk == 0
    assert decision.reason == "portfolio heat 6.00% is at its cap 6%"
    assert decision.quantity(D(400), D(1)) == 0


def test_three_at_one_and_a_half_percent_shrink_a_fourth_two_percent_entry_to_one_and_a_half() -> None:
    book = _book(D(1500), D(1500), D(1500))
    decision = fit_entry(book, HeatConfig(), EQUITY, "D", D(2000))
    assert decision.shrunk and decision.allowed_risk == D(1500)
    assert decision.quantity(D(400), D(1)) == D(300)  # 300 units x 5 to the stop = 1.5%
    assert "1.50%" in (decision.reason or "")


def test_protected_positions_add_no_heat_and_updates_are_incremental() -> None:
    assert loss_to_stop(1, D(100), D(101), D(10)) == 0
    assert loss_to_stop(-1, D(100), D(104), D(10)) == D(40)
    book = _book(D(2000), D(2000), D(2000))
    book.set("p0", "A", D(0))  # its stop moved to breakeven
    assert book.total == D(4000)
    book.remove("p1")
    book.remove("missing")
    assert (book.total, book.symbol_risk("B"), len(book)) == (D(2000), D(0), 2)
    assert fit_entry(book, HeatConfig(), EQUITY, "D", D(2000)).allowed_risk == D(2000)


def test_a_correlated_cluster_has_its_own_cap() -> None:
    book = _book(D(1000), D(1500), symbols=("BTC", "ETH"))
    clusters = {"BTC": frozenset({"BTC", "ETH", "SOL"}), "ETH": frozenset({"BTC", "ETH", "SOL"}),
                "SOL": frozenset({"BTC", "ETH", "SOL"}), "EURUSD": frozenset({"EURUSD"})}
    sol = fit_entry(book, HeatConfig(), EQUITY, "SOL", D(1000), clusters)
    assert sol.allowed_risk == D(500)  # 3% cluster cap less 2.5% already open
    assert "cluster BTC,ETH,SOL" in (sol.reason or "")
    assert fit_entry(book, HeatConfig(), EQUITY, "EURUSD", D(1000), clusters).allowed_risk == D(1000)
    book.set("p2", "SOL", D(500))
    refused = fit_entry(book, HeatConfig(), EQUITY, "BTC", D(100), clusters)
    assert refused.refused and refused.reason == "cluster BTC,ETH,SOL is at its heat cap 3%"


def test_correlation_clusters_link_symbols_above_the_threshold() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(size=200)
    returns = {
        "A": base,
        "B": base + rng.normal(scale=0.1, size=200),  # corr ~0.99 with A
        "C": rng.normal(size=200),
        "D": -base,  # perfectly anti-correlated: not a cluster
        "E": rng.normal(size=10),  # too short for the window
    }
    clusters = correlation_clusters(returns, threshold=0.7, window=100)
    assert clusters["A"] == clusters["B"] == frozenset({"A", "B"})
    assert clusters["C"] == frozenset({"C"}) and clusters["D"] == frozenset({"D"}) and clusters["E"] == frozenset({"E"})


def test_bad_heat_input_is_named() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        HeatBook().set("p", "A", D(-1))
    with pytest.raises(ValueError, match="heat caps"):
        HeatConfig(max_heat_pct=D(0))
    assert fit_entry(HeatBook(), HeatConfig(), D(0), "A", D(1)).reason == "equity 0 is not positive"


@settings(max_examples=200, deadline=None)
@given(
    risks=st.lists(st.integers(0, 3000), max_size=8),
    proposed=st.integers(1, 5000),
    quantity=st.integers(1, 10_000),
)
def test_an_admitted_entry_never_takes_heat_over_the_cap(risks: list[int], proposed: int, quantity: int) -> None:
    book = HeatBook()
    for index, risk in enumerate(risks):
        book.set(f"p{index}", f"S{index}", D(risk))
    decision = fit_entry(book, HeatConfig(), EQUITY, "NEW", D(proposed))
    cap = EQUITY * 6 / 100
    if book.total >= cap:
        assert decision.refused
    else:
        assert book.total + decision.allowed_risk <= cap
        assert decision.allowed_risk == min(D(proposed), cap - book.total)
    # a shrunk quantity is whole lots and carries no more than the allowed risk
    shrunk = decision.quantity(D(quantity), D(1))
    assert shrunk <= quantity and shrunk * D(proposed) / D(quantity) <= decision.allowed_risk + D("1e-20")
