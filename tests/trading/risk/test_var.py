"""Value at risk: historical ranks and the normal formula, at 95% and 99%."""

from __future__ import annotations

from decimal import Decimal as D
from statistics import NormalDist

import numpy as np
import pytest

from tradeloom.trading.risk.var import historical_var, parametric_var, portfolio_var


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
