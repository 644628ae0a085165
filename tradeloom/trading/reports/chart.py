"""A PNG of the equity curve over its drawdown, drawn with matplotlib's Agg canvas (no display, no pyplot state)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tradeloom.trading.metrics import drawdown


def thin_curve(ts: np.ndarray, values: np.ndarray, max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``max_points`` points of a curve, keeping each bucket's lowest and highest value."""
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}")
    n = len(values)
    if n <= max_points:
        return ts, values
    size = -(-n // (max_points // 2))  # ceil: buckets of this many bars, two points kept from each
    buckets = -(-n // size)
    padded = np.concatenate((values, np.full(buckets * size - n, np.nan))).reshape(buckets, size)
    offsets = np.arange(buckets) * size
    keep = np.unique(np.concatenate((offsets + np.nanargmin(padded, axis=1), offsets + np.nanargmax(padded, axis=1), [n - 1])))
    return ts[keep], values[keep]


def as_curve(ts: Sequence[int] | np.ndarray, equity: Sequence[object] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps (int64 ns) and equity (float64) of a curve, checked to pair up."""
    stamps = np.asarray(ts, dtype=np.int64)
    if isinstance(equity, np.ndarray) and equity.dtype != object:
        values = equity.astype(np.float64, copy=False)
    else:
        values = np.array([float(e) for e in equity], dtype=np.float64)  # type: ignore[arg-type]  # Decimals
    if len(stamps) != len(values) or len(values) == 0:
        raise ValueError(f"need a non-empty curve with one timestamp per value; got {len(stamps)} ts, {len(values)} values")
    return stamps, values


def equity_drawdown_png(
    ts: Sequence[int] | np.ndarray,
    equity: Sequence[object] | np.ndarray,
    path: Path | str,
    *,
    title: str = "Equity",
    dpi: int = 80,
) -> Path:
    """Draw equity (top) and drawdown in percent (bottom) against UTC time to ``path``; returns the path."""
    stamps, values = as_curve(ts, equity)
    x_eq, y_eq = thin_curve(stamps, values)
    x_dd, y_dd = thin_curve(stamps, drawdown(values) * 100.0)
    figure = Figure(figsize=(10, 6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(x_eq.astype("datetime64[ns]"), y_eq, color="#1f77b4", linewidth=1.0)
    top.set_title(title)
    top.set_ylabel("equity")
    top.grid(alpha=0.3)
    bottom.fill_between(x_dd.astype("datetime64[ns]"), y_dd, 0.0, color="#d62728", alpha=0.4, linewidth=0)
    bottom.set_ylabel("drawdown %")
    bottom.set_xlabel("time (UTC)")
    bottom.grid(alpha=0.3)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, format="png")
    return target
