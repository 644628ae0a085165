"""Technical indicators over numpy arrays: vectorised, causal (value at t uses x[:t+1]), NaN during warm-up.

Conventions (TA-Lib's and backtrader's): SMA(n) is first defined at index n-1; EMA(n) is
seeded with the SMA of its first n values and then smoothed with alpha = 2/(n+1); Wilder
averages (RSI, ATR) are seeded with the mean of the first n changes, so they start at
index n, and are then smoothed with alpha = 1/n.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _series(values: np.ndarray, name: str = "values") -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _period(period: int, name: str = "period") -> int:
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
        raise ValueError(f"{name} must be a positive integer, got {period!r}")
    return int(period)


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan, dtype=np.float64)


def sma(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average over ``period`` values (cumulative-sum based)."""
    x, n = _series(values), _period(period)
    out = _nan(len(x))
    if len(x) >= n:
        csum = np.concatenate(([0.0], np.cumsum(x)))
        out[n - 1 :] = (csum[n:] - csum[:-n]) / n
    return out


def _smooth(x: np.ndarray, first: int, seed: float, alpha: float) -> np.ndarray:
    """out[first] = seed, then out[t] = alpha*x[t] + (1-alpha)*out[t-1]; NaN before ``first``."""
    from scipy.signal import lfilter  # imported here: scipy.signal takes seconds to import and SMA paths never need it

    out = _nan(len(x))
    out[first] = seed
    if first + 1 < len(x):
        tail, _ = lfilter([alpha], [1.0, alpha - 1.0], x[first + 1 :], zi=[(1.0 - alpha) * seed])
        out[first + 1 :] = tail
    return out


def _seeded_average(values: np.ndarray, period: int, alpha: float) -> np.ndarray:
    """An exponential average seeded with the mean of the first ``period`` values after any leading NaNs."""
    finite = np.flatnonzero(~np.isnan(values))
    if len(finite) == 0 or len(values) - finite[0] < period:
        return _nan(len(values))
    start = int(finite[0])
    if np.isnan(values[start:]).any():
        raise ValueError("values have NaNs after their first valid value")
    first = start + period - 1
    return _smooth(values, first, float(np.mean(values[start : first + 1])), alpha)


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average, alpha = 2/(period+1), seeded with the SMA of the first ``period`` values."""
    n = _period(period)
    return _seeded_average(_series(values), n, 2.0 / (n + 1.0))


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's relative strength index in [0, 100]; 100 when there were no losses, 50 when nothing moved."""
    x, n = _series(close, "close"), _period(period)
    out = _nan(len(x))
    if len(x) <= n:
        return out
    change = np.diff(x, prepend=np.nan)
    gains = np.where(change > 0, change, 0.0)
    losses = np.where(change < 0, -change, 0.0)
    gains[0] = losses[0] = np.nan
    avg_gain = _seeded_average(gains, n, 1.0 / n)
    avg_loss = _seeded_average(losses, n, 1.0 / n)
    valid = ~np.isnan(avg_gain)
    total = avg_gain + avg_loss
    moved = valid & (total > 0)
    # == 100 - 100/(1 + gain/loss), defined when loss is 0; dividing first keeps it <= 100 ((100*g)/g can round above)
    out[moved] = 100.0 * (avg_gain[moved] / total[moved])
    out[valid & (total == 0)] = 50.0
    return out


def macd(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line (EMA fast - EMA slow), its signal line (EMA of the line), and the histogram (line - signal)."""
    if _period(fast, "fast") >= _period(slow, "slow"):
        raise ValueError(f"MACD fast period {fast} must be below the slow period {slow}")
    x = _series(close, "close")
    line = ema(x, fast) - ema(x, slow)
    signal_line = ema(line, _period(signal, "signal"))
    return line, signal_line, line - signal_line


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """max(high - low, |high - previous close|, |low - previous close|); NaN at index 0 (no previous close)."""
    h, lo, c = _series(high, "high"), _series(low, "low"), _series(close, "close")
    previous = np.concatenate(([np.nan], c[:-1]))
    return np.fmax(h - lo, np.fmax(np.abs(h - previous), np.abs(lo - previous))) + np.where(np.isnan(previous), np.nan, 0.0)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's average true range, first defined at index ``period``."""
    n = _period(period)
    return _seeded_average(true_range(high, low, close), n, 1.0 / n)


def rolling_max(values: np.ndarray, period: int) -> np.ndarray:
    """Highest value over the last ``period`` values, the current one included."""
    x, n = _series(values), _period(period)
    out = _nan(len(x))
    if len(x) >= n:
        out[n - 1 :] = sliding_window_view(x, n).max(axis=-1)
    return out


def rolling_min(values: np.ndarray, period: int) -> np.ndarray:
    """Lowest value over the last ``period`` values, the current one included."""
    x, n = _series(values), _period(period)
    out = _nan(len(x))
    if len(x) >= n:
        out[n - 1 :] = sliding_window_view(x, n).min(axis=-1)
    return out


def donchian(high: np.ndarray, low: np.ndarray, period: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Donchian channel over the last ``period`` bars (current included): upper, lower and middle."""
    upper, lower = rolling_max(high, period), rolling_min(low, period)
    return upper, lower, (upper + lower) / 2.0


def rolling_std(values: np.ndarray, period: int) -> np.ndarray:
    """Population standard deviation (ddof=0) over the last ``period`` values."""
    x, n = _series(values), _period(period)
    if len(x) < n:
        return _nan(len(x))
    centred = x - x[0]  # shifting by a constant keeps the sums of squares small
    variance = sma(centred * centred, n) - sma(centred, n) ** 2
    return np.sqrt(np.maximum(variance, 0.0))


def volume_ratio(volume: np.ndarray, period: int = 20) -> np.ndarray:
    """Volume divided by the mean volume of the previous ``period`` bars; NaN where that mean is 0."""
    v, n = _series(volume, "volume"), _period(period)
    previous_mean = np.concatenate(([np.nan], sma(v, n)[:-1]))
    out = _nan(len(v))
    usable = previous_mean > 0
    out[usable] = v[usable] / previous_mean[usable]
    return out


def shifted(values: np.ndarray, by: int = 1) -> np.ndarray:
    """``values`` delayed by ``by`` bars (the value of bar t-by at t), NaN-padded."""
    x = _series(values)
    if by < 0:
        raise ValueError(f"a causal shift must be >= 0, got {by}")
    return np.concatenate((_nan(min(by, len(x))), x[: len(x) - by])) if by else x.copy()


def crossed_above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True at t when a[t] > b[t] and a[t-1] <= b[t-1] (False where either is undefined)."""
    now = _series(a) > _series(b)
    before = shifted(a) <= shifted(b)
    return now & before


def crossed_below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True at t when a[t] < b[t] and a[t-1] >= b[t-1] (False where either is undefined)."""
    now = _series(a) < _series(b)
    before = shifted(a) >= shifted(b)
    return now & before
