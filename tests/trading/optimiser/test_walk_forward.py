"""Walk-forward split boundaries, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloom.trading.optimiser.walk_forward import Split, walk_forward_splits


def test_rolling_splits_of_1000_bars_in_3_folds_at_70_percent():
    # os = floor(1000 / (3 + 0.7/0.3)) = floor(187.5) = 187; is = 1000 - 3*187 = 439
    assert walk_forward_splits(1000, 3, 0.7) == (
        Split(0, 0, 439, 626), Split(1, 187, 626, 813), Split(2, 374, 813, 1000))


def test_anchored_splits_start_every_in_sample_window_at_bar_0():
    assert walk_forward_splits(100, 2, 0.5) == (Split(0, 0, 34, 67), Split(1, 33, 67, 100))
    assert walk_forward_splits(100, 2, 0.5, anchored=True) == (Split(0, 0, 34, 67), Split(1, 0, 67, 100))


def test_too_few_bars_is_refused_naming_the_sizes():
    with pytest.raises(ValueError, match="too few for 4 walk-forward folds"):
        walk_forward_splits(10, 4, 0.8)
    with pytest.raises(ValueError, match="in_sample_ratio"):
        walk_forward_splits(100, 2, 1.0)
    with pytest.raises(ValueError, match="folds"):
        walk_forward_splits(100, 0)


@given(n=st.integers(20, 100_000), folds=st.integers(1, 8), ratio=st.floats(0.3, 0.9))
def test_out_of_sample_windows_tile_the_tail_and_never_overlap_their_in_sample(n, folds, ratio):
    try:
        splits = walk_forward_splits(n, folds, ratio)
    except ValueError:
        return
    assert splits[-1].out_end == n
    for a, b in zip(splits, splits[1:]):
        assert b.out_start == a.out_end  # consecutive, no gap, no overlap
        assert b.in_start - a.in_start == a.out_end - a.out_start  # the window rolls by one out-of-sample length
    for s in splits:
        assert 0 <= s.in_start < s.in_end == s.out_start < s.out_end
        assert s.in_end - s.in_start == splits[0].in_end  # every in-sample window has the same length
