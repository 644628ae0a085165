"""Portfolio value at risk, parametric (normal) and historical, as a loss in money over one return period.

Historical VaR at confidence c is the smallest loss L such that at most (1 - c) of the
scenarios lose more than L: with n scenarios sorted from the worst, the loss of rank
floor(n (1 - c)) + 1. Parametric VaR is z_c x the portfolio's standard deviation less its
mean return, from the covariance of the positions' returns (sample, ddof 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from statistics import NormalDist

import numpy as np

CENT = Decimal("0.01")


@dataclass(frozen=True)
class VarReport:
    """VaR of a portfolio at 95% and 99%, both methods, as positive losses."""

    parametric_95: Decimal
    parametric_99: Decimal
    historical_95: Decimal
    historical_99: Decimal


def _money(value: float, quantum: Decimal) -> Decimal:
    return max(Decimal(0), Decimal(repr(value)).quantize(quantum))


def _check(values: Sequence[Decimal], returns: np.ndarray, confidence: Decimal) -> np.ndarray:
    if not Decimal("0.5") < confidence < 1:
        raise ValueError(f"VaR confidence must be in (0.5, 1), got {confidence}")
    matrix = np.asarray(returns, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2 or matrix.shape[1] != len(values):
        raise ValueError(f"returns must be a (periods x {len(values)}) matrix, one column per position")
    if matrix.shape[0] < 2 or not np.isfinite(matrix).all():
        raise ValueError("returns need at least two periods of finite values")
    return matrix


def historical_var(values: Sequence[Decimal], returns: np.ndarray, confidence: Decimal,
                   quantum: Decimal = CENT) -> Decimal:
    """Historical VaR of positions worth ``values`` (signed) under past ``returns`` (periods x positions)."""
    matrix = _check(values, returns, confidence)
    pnl = matrix @ np.array([float(v) for v in values])
    losses = np.sort(-pnl)[::-1]
    rank = int((len(losses) * (1 - confidence)).to_integral_value(rounding=ROUND_FLOOR))
    return _money(float(losses[min(rank, len(losses) - 1)]), quantum)


def parametric_var(values: Sequence[Decimal], returns: np.ndarray, confidence: Decimal,
                   quantum: Decimal = CENT) -> Decimal:
    """Normal VaR of positions worth ``values`` (signed): z x sigma - mean of the portfolio's PnL."""
    matrix = _check(values, returns, confidence)
    weights = np.array([float(v) for v in values])
    covariance = np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1))
    sigma = float(np.sqrt(max(0.0, weights @ covariance @ weights)))
    mean = float(matrix.mean(axis=0) @ weights)
    return _money(NormalDist().inv_cdf(float(confidence)) * sigma - mean, quantum)


def portfolio_var(values: Sequence[Decimal], returns: np.ndarray) -> VarReport:
    """Both VaRs at 95% and 99%."""
    c95, c99 = Decimal("0.95"), Decimal("0.99")
    return VarReport(parametric_var(values, returns, c95), parametric_var(values, returns, c99),
                     historical_var(values, returns, c95), historical_var(values, returns, c99))
