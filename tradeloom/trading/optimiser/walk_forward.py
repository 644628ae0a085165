"""Walk-forward splits: rolling (or anchored) in-sample windows, each followed by its out-of-sample window.

With ``n`` bars, ``folds`` folds and an in-sample share ``r`` of each window, the
out-of-sample length is ``os = floor(n / (folds + r / (1 - r)))`` and the first in-sample
length is ``is = n - folds * os`` (the remainder goes to in-sample, so every bar is used and
the last out-of-sample window ends at bar ``n``). Fold ``i`` (from 0):
in-sample ``[i*os, is + i*os)`` (anchored: ``[0, is + i*os)``), out-of-sample
``[is + i*os, is + (i+1)*os)``. The out-of-sample windows tile the tail without overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    """One fold: in-sample bars [in_start, in_end), out-of-sample bars [in_end, out_end)."""

    fold: int
    in_start: int
    in_end: int
    out_end: int

    @property
    def out_start(self) -> int:
        """The first out-of-sample bar (the bar after the in-sample window)."""
        return self.in_end


def walk_forward_splits(n: int, folds: int = 3, in_sample_ratio: float = 0.7, anchored: bool = False,
                        min_window: int = 2) -> tuple[Split, ...]:
    """The folds for ``n`` bars (see the module docstring); ValueError if a window would hold under ``min_window`` bars."""
    if folds < 1:
        raise ValueError(f"folds must be at least 1, got {folds}")
    if not 0 < in_sample_ratio < 1:
        raise ValueError(f"in_sample_ratio must be in (0, 1), got {in_sample_ratio}")
    out_len = math.floor(n / (folds + in_sample_ratio / (1 - in_sample_ratio)))
    in_len = n - folds * out_len
    if out_len < min_window or in_len < min_window:
        raise ValueError(f"{n} bars are too few for {folds} walk-forward folds at in-sample ratio {in_sample_ratio}: "
                         f"windows of {in_len} in-sample and {out_len} out-of-sample bars (need {min_window})")
    return tuple(
        Split(i, 0 if anchored else i * out_len, in_len + i * out_len, in_len + (i + 1) * out_len) for i in range(folds)
    )
