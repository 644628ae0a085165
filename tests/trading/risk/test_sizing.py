"""Position sizing: fixed-fractional bands, capped Kelly, volatility targeting, the size cap."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.trading.risk.sizing import (
    RiskBand,
    SizingConfig,
    TradeStats,
    band_risk_pct,
    kelly_pct,
    parse_risk_bands,
    position_size,
)


def test_risk_falls_with_equity_through_the_bands() -> None:
    bands = SizingConfig().risk_bands
    assert [band_risk_pct(bands, D(e)) for e in (10_000, 50_000, 199_999, 200_000, 5_000_000)] == [
        D(2), D("1.5"), D("1.5"), D(1), D("0.5"),
    ]


def test_fixed_fractional_size_risks_two_percent_to_the_stop() -> None:
    decision = position_size(SizingConfig(), D(10_000), D(100), D(95), D(1))
    assert (decision.quantity, decision.risk_amount, decision.risk_pct, decision.binding) == (D(20), D(100), D(1), "max_position")
    wide = position_size(SizingConfig(max_position_pct=D(100)), D(10_000), D(100), D(95), D("0.1"))
    assert (wide.quantity, wide.risk_amount, wide.risk_pct, wide.binding) == (D(40), D(200), D(2), "risk")


def test_capped_kelly_applies_only_with_enough_trades() -> None:
    config = SizingConfig(max_position_pct=D(100))
    stats = TradeStats(trades=50, win_rate=D("0.4"), payoff=D("1.6"))
    # full Kelly 0.4 - 0.6/1.6 = 0.025; half of it is 1.25% < 2%
    assert kelly_pct(stats, D("0.5")) == D("1.25")
    kelly = position_size(config, D(10_000), D(100), D(95), D(1), stats)
    assert (kelly.quantity, kelly.binding) == (D(25), "kelly")
    few = position_size(config, D(10_000), D(100), D(95), D(1), TradeStats(5, D("0.4"), D("1.6")))
    assert few.binding == "risk" and few.quantity == D(40)
    losing = position_size(config, D(10_000), D(100), D(95), D(1), TradeStats(50, D("0.2"), D(1)))
    assert losing.quantity == 0
    off = SizingConfig(kelly_min_trades=0, max_position_pct=D(100))
    assert position_size(off, D(10_000), D(100), D(95), D(1), TradeStats(50, D("0.2"), D(1))).quantity == D(40)


def test_volatility_targeting_cuts_a_volatile_asset() -> None:
    config = SizingConfig(volatility_target_pct=D(10), max_position_pct=D(100))
    # 10% of 10,000 = 1,000 of volatility; at 50% asset vol that is 2,000 notional = 20 units
    decision = position_size(config, D(10_000), D(100), D(95), D(1), volatility_pct=D(50))
    assert (decision.quantity, decision.binding) == (D(20), "volatility")


def test_bad_sizing_input_is_named() -> None:
    with pytest.raises(ValueError, match="start at equity 0"):
        SizingConfig(risk_bands=(RiskBand(D(10), D(1)),))
    with pytest.raises(ValueError, match="EQUITY:RISK_PCT"):
        parse_risk_bands("0:2,5")
    with pytest.raises(ValueError, match="not two numbers"):
        parse_risk_bands("0:two")
    with pytest.raises(ValueError, match="differ from the stop"):
        position_size(SizingConfig(), D(1000), D(100), D(100), D(1))
    with pytest.raises(ValueError, match="equity must be positive"):
        position_size(SizingConfig(), D(0), D(100), D(95), D(1))


@settings(max_examples=200, deadline=None)
@given(
    equity=st.integers(1_000, 10_000_000),
    entry_ticks=st.integers(100, 100_000),
    stop_ticks=st.integers(1, 99),
    lot_exp=st.integers(-3, 1),
)
def test_size_never_risks_more_than_the_band_nor_exceeds_the_share(equity: int, entry_ticks: int, stop_ticks: int, lot_exp: int) -> None:
    config = SizingConfig()
    entry = D(entry_ticks) / 100
    stop = entry * (100 - stop_ticks) / 100
    lot = D(10) ** lot_exp
    decision = position_size(config, D(equity), entry, stop, lot)
    assert decision.quantity % lot == 0 and decision.quantity >= 0
    assert decision.quantity * (entry - stop) <= D(equity) * band_risk_pct(config.risk_bands, D(equity)) / 100
    assert decision.quantity * entry <= D(equity) * config.max_position_pct / 100


def test_bar_volatility_is_the_std_of_log_returns() -> None:
    from math import exp

    from tradeloom.trading.risk.sizing import bar_volatility_pct

    closes = [100.0, 100 * exp(0.01), 100.0, 100 * exp(0.01), 100.0]  # returns +1%, -1%, +1%, -1% (log)
    assert float(bar_volatility_pct(closes)) == pytest.approx(100 * (4 / 3) ** 0.5 * 0.01)  # type: ignore[arg-type]
    assert bar_volatility_pct([100.0, 101.0]) is None and bar_volatility_pct([1.0, 0.0, 2.0]) is None


def test_the_tally_gives_win_rate_and_payoff() -> None:
    from tradeloom.trading.risk.sizing import TradeTally

    tally = TradeTally()
    assert tally.stats() is None
    for pnl in (300, -100, 200, -100, 0):
        tally.record(D(pnl))
    stats = tally.stats()
    # wins 300, 200 (avg 250); losses 100, 100, 0 (avg 66.67): payoff 3.75, win rate 2/5
    assert stats == TradeStats(5, D("0.4"), D(250) / (D(200) / 3))
