"""Portfolio value at risk, parametric (normal) and historical, as a loss in money over one return period.

Historical VaR at confidence c is the smallest loss L such that at most (1 - c) of the
scenarios lose more than L: with n scenarios sorted from the worst, the loss of rank
floor(n (1 - c)) + 1. Parametric VaR is z_c x the portfolio's standard deviation less its
mean return, from the covariance of the positions' returns (sample, ddof 1).

``equity_var`` applies both to a backtest's equity curve over a one-day horizon: the
scenarios are the curve's daily returns (closing equity of each UTC day with bars against
the previous one's; the first against the starting equity), applied to the final equity.
Bar returns are never scaled up to a day (that assumes independent, identically
distributed bars, which intraday returns are not): a run with fewer than
``MIN_DAILY_RETURNS`` daily returns reports "not enough history" instead of a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from statistics import NormalDist

import numpy as np

CENT = Decimal("0.01")
DAY_NS = 86_400 * 10**9
MIN_DAILY_RETURNS = 20  # about a trading month; fewer make the 95% and 99% tails a single worst day
HORIZON = "1 day"


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


@dataclass(frozen=True)
class EquityVar:
    """One-day VaR of a final ``equity`` from ``daily_returns`` scenarios; ``report`` is None without enough history."""

    equity: Decimal
    daily_returns: int
    report: VarReport | None
    min_daily_returns: int = MIN_DAILY_RETURNS
    horizon: str = HORIZON
    problem: str | None = None  # why no VaR can be given even with enough days (e.g. equity wiped out)

    @property
    def note(self) -> str:
        """What the numbers are, or why there are none."""
        if self.problem is not None:
            return self.problem
        if self.report is None:
            return (f"not enough history: {self.daily_returns} daily return{'' if self.daily_returns == 1 else 's'}, "
                    f"at least {self.min_daily_returns} are needed for a one-day VaR")
        return (f"loss of the final equity {self.equity} over one day, exceeded with a probability of at most "
                f"5% (95%) or 1% (99%); from {self.daily_returns} daily returns of the equity curve (UTC days with bars)")

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: horizon, equity, number of daily returns, the four VaRs (strings, or None) and the note."""
        report = self.report
        values = {name: None if report is None else str(getattr(report, name))
                  for name in ("parametric_95", "parametric_99", "historical_95", "historical_99")}
        return {"horizon": self.horizon, "equity": str(self.equity), "daily_returns": self.daily_returns,
                "min_daily_returns": self.min_daily_returns, **values, "note": self.note}


def _day_closes(ts: Sequence[int] | np.ndarray, equity: Sequence[float] | np.ndarray) -> np.ndarray:
    stamps = np.asarray(ts, dtype=np.int64)
    values = np.asarray(equity, dtype=float)
    if len(stamps) != len(values) or len(values) == 0:
        raise ValueError(f"need a non-empty equity curve with one timestamp per value; got {len(stamps)} ts, "
                         f"{len(values)} values")
    if (np.diff(stamps) < 0).any():
        raise ValueError("equity curve timestamps must be in ascending order")
    days = stamps // DAY_NS
    return values[np.append(np.flatnonzero(np.diff(days) != 0), len(values) - 1)]


def daily_returns(ts: Sequence[int] | np.ndarray, equity: Sequence[float] | np.ndarray,
                  start_equity: Decimal | float) -> np.ndarray:
    """Returns between the closing equity of consecutive UTC days with bars; the first day's is against ``start_equity``."""
    closes = _day_closes(ts, equity)
    prior = np.insert(closes[:-1], 0, float(start_equity))
    if not np.isfinite(closes).all() or (prior <= 0).any():
        raise ValueError("daily returns need finite equity and a positive equity at the start of each day")
    return closes / prior - 1.0


def equity_var(ts: Sequence[int] | np.ndarray, equity: Sequence[float] | np.ndarray, start_equity: Decimal,
               final_equity: Decimal, min_daily_returns: int = MIN_DAILY_RETURNS) -> EquityVar:
    """One-day VaR (both methods, 95% and 99%) of ``final_equity`` from the curve's daily returns."""
    if min_daily_returns < 2:
        raise ValueError(f"min_daily_returns must be at least 2, got {min_daily_returns}")
    closes = _day_closes(ts, equity)
    wiped = np.flatnonzero(~(closes[:-1] > 0))  # NaN counts as wiped out too
    if float(start_equity) <= 0 or len(wiped):
        day = 0 if float(start_equity) <= 0 else int(wiped[0]) + 1
        return EquityVar(final_equity, 0, None, min_daily_returns,
                         problem=f"no VaR: the equity was not positive at the start of day {day + 1} of the run, "
                                 "so its returns are not defined")
    returns = daily_returns(ts, equity, start_equity)
    if len(returns) < min_daily_returns:
        return EquityVar(final_equity, len(returns), None, min_daily_returns)
    return EquityVar(final_equity, len(returns), portfolio_var([final_equity], returns), min_daily_returns)
