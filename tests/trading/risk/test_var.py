"""Value at risk: historical ranks and the normal formula, at 95% and 99%."""

from __future__ import annotations

from decimal import Decimal as D
from statistics import NormalDist, mean, stdev

import numpy as np
import pytest

from tradeloom.trading.risk.var import daily_returns, equity_var, historical_var, parametric_var, portfolio_var


def test_historical_var_is_the_loss_exceeded_by_at_most_the_tail() -> None:
    returns = -np.arange(1, 101) / 1000  # a position of 1,000 loses 1, 2, ... 100
    assert historical_var([D(1000)], returns, D("0.95")) == D(95)  # 5 scenarios lose more
    assert historical_var([D(1000)], returns, D("0.99")) == D(99)
    assert historical_var([D(-1000)], returns, D("0.95")) == D(0)  # a short gains in every scenario


def test_parametric_var_uses_the_covariance_of_the_positions() -> None:
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0005, 0.01, size=(250, 2))
    values = [D(1000), D(-500)]
    w = np.array([1000.0, -500.0])
    sigma = np.sqrt(w @ np.cov(returns, rowvar=False) @ w)
    expected = NormalDist().inv_cdf(0.99) * sigma - returns.mean(axis=0) @ w
    assert float(parametric_var(values, returns, D("0.99"))) == pytest.approx(expected, abs=0.005)
    report = portfolio_var(values, returns)
    assert report.parametric_99 > report.parametric_95 > 0 and report.historical_99 >= report.historical_95 > 0


def test_bad_var_input_is_named() -> None:
    with pytest.raises(ValueError, match="confidence must be in"):
        historical_var([D(1)], np.zeros(5), D("1.2"))
    with pytest.raises(ValueError, match="one column per position"):
        parametric_var([D(1), D(2)], np.zeros((5, 3)), D("0.95"))
    with pytest.raises(ValueError, match="at least two periods"):
        parametric_var([D(1)], np.array([np.nan, 1.0]), D("0.95"))


# A curve of 20 UTC days (a weekend skipped) with three bars a day: only each day's last bar counts. The worst
# day loses exactly 2% (10,200 -> 9,996), the second worst exactly 1.5% (10,000 -> 9,850); the final equity is 10,000.
DAY = 86_400 * 10**9
MONDAY = 1_549_238_400 * 10**9  # 2019-02-04T00:00Z
CLOSES = [10100, 10200, 9996, 10100, 10000, 9850, 9900, 9950, 10000, 10050,
          10000, 10050, 10100, 10050, 10100, 10150, 10100, 10050, 10020, 10000]


def known_curve() -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and equity of the 20-day curve above, starting from 10,000."""
    days = [d for d in range(22) if d not in (5, 6)][:20]  # Saturday and Sunday have no bars
    ts, equity = [], []
    for day, close in zip(days, CLOSES):
        ts += [MONDAY + day * DAY, MONDAY + day * DAY + DAY // 2, MONDAY + day * DAY + DAY - 1]
        equity += [7000.0, 13000.0, float(close)]  # intraday swings that a one-day VaR must ignore
    return np.array(ts, dtype=np.int64), np.array(equity)


def hand_returns() -> list[float]:
    """The daily returns worked out from CLOSES by hand: each close over the one before, the first over 10,000."""
    prior = [10000] + CLOSES[:-1]
    return [close / before - 1 for close, before in zip(CLOSES, prior)]


def test_daily_returns_use_each_utc_days_last_equity_against_the_day_before() -> None:
    ts, equity = known_curve()
    returns = daily_returns(ts, equity, D(10000))
    assert returns.tolist() == pytest.approx(hand_returns(), abs=1e-15)
    assert returns[2] == pytest.approx(-0.02, abs=1e-15) and returns[5] == pytest.approx(-0.015, abs=1e-15)


def test_one_day_var_of_a_known_equity_curve_equals_the_hand_computed_losses() -> None:
    ts, equity = known_curve()
    var = equity_var(ts, equity, D(10000), D(10000))
    assert var.daily_returns == 20 and var.horizon == "1 day"
    # 20 scenarios: 99% is the worst day (rank floor(0.2) + 1 = 1), 95% the second worst (floor(1.0) + 1 = 2)
    assert var.report is not None
    assert var.report.historical_99 == D("200.00") and var.report.historical_95 == D("150.00")
    returns = hand_returns()
    for level, value in ((0.95, var.report.parametric_95), (0.99, var.report.parametric_99)):
        by_hand = NormalDist().inv_cdf(level) * stdev(returns) * 10000 - mean(returns) * 10000
        assert float(value) == pytest.approx(by_hand, abs=0.005)  # to the cent: 137.8366... and 195.0845...
    assert (var.report.parametric_95, var.report.parametric_99) == (D("137.84"), D("195.08"))
    assert var.as_dict() == {"horizon": "1 day", "equity": "10000", "daily_returns": 20, "min_daily_returns": 20,
                             "parametric_95": "137.84", "parametric_99": "195.08",
                             "historical_95": "150.00", "historical_99": "200.00", "note": var.note}
    assert var.note.startswith("loss of the final equity 10000 over one day") and "from 20 daily returns" in var.note


def test_var_scales_with_the_final_equity_and_needs_enough_days() -> None:
    ts, equity = known_curve()
    doubled = equity_var(ts, equity, D(10000), D(20000))
    assert doubled.report is not None and doubled.report.historical_99 == D("400.00")
    short = equity_var(ts[:-3], equity[:-3], D(10000), D(10050))  # 19 days
    assert short.report is None and short.daily_returns == 19
    assert short.note == "not enough history: 19 daily returns, at least 20 are needed for a one-day VaR"
    assert short.as_dict()["historical_99"] is None and short.as_dict()["parametric_95"] is None
    intraday = equity_var(ts[:3], equity[:3], D(10000), D(10100))  # one day of bars: never scaled from bar returns
    assert intraday.report is None and intraday.daily_returns == 1
    assert equity_var(ts[:9], equity[:9], D(10000), D(10000), min_daily_returns=2).report is not None


def test_bad_equity_curves_are_named() -> None:
    ts, equity = known_curve()
    with pytest.raises(ValueError, match="one timestamp per value"):
        daily_returns(ts[:-1], equity, D(10000))
    with pytest.raises(ValueError, match="ascending order"):
        daily_returns(ts[::-1], equity, D(10000))
    with pytest.raises(ValueError, match="positive equity at the start of each day"):
        daily_returns(ts, equity, D(0))
    with pytest.raises(ValueError, match="at least 2"):
        equity_var(ts, equity, D(10000), D(10000), min_daily_returns=1)


def test_a_wiped_out_account_has_no_var_and_says_why_instead_of_failing_the_backtest() -> None:
    ts, equity = known_curve()
    equity = equity.copy()
    equity[8] = -50.0  # the close of the third day: the fourth day starts below zero
    var = equity_var(ts, equity, D(10000), D(-50))
    assert var.report is None and var.daily_returns == 0
    assert var.note == ("no VaR: the equity was not positive at the start of day 4 of the run, "
                        "so its returns are not defined")
    assert var.as_dict()["historical_99"] is None and var.as_dict()["note"] == var.note
    ts, equity = known_curve()
    assert "start of day 1" in equity_var(ts, equity, D(0), D(0)).note
