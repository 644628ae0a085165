"""run_backtest holds off the collector's full passes during the run and always puts the thresholds back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from decimal import Decimal as D

import pytest

from tests.trading.engine_support import Scripted
from tests.trading.venue_support import bars, btc
from tradeloom.trading.backtest import run_backtest
from tradeloom.trading.policy import FixedStopTakeProfit
from tradeloom.trading.simulated import FeeSchedule, VenueConfig
from tradeloom.trading.strategies.base import Bars, Signals

DATA = ((100, 100, 100, 100), (100, 101, 99, 100), (100, 101, 99.5, 100.5), (100.5, 103, 100, 102), (102, 102, 101, 101))
CONFIG = VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001")))
CUSTOM = (911, 13, 17)  # thresholds the caller had set: they must come back exactly


@pytest.fixture
def custom_thresholds() -> Iterator[None]:
    original = gc.get_threshold()
    gc.set_threshold(*CUSTOM)
    try:
        yield
    finally:
        gc.set_threshold(*original)


class Watching(Scripted):
    """Scripted signals that note the collector's thresholds while the engine computes them (inside the run)."""

    def __init__(self, entry: list[int], inner: bool = False, fail: bool = False) -> None:
        super().__init__(entry)
        self.seen: list[tuple[int, int, int]] = []
        self.after_inner: tuple[int, int, int] | None = None
        self.inner, self.fail = inner, fail

    def _signals(self, data: Bars) -> Signals:
        self.seen.append(gc.get_threshold())
        if self.inner:  # a backtest started from inside another (or from another thread) shares the hold
            run_backtest(Scripted([0, 1, 0, 0, 0]), bars(*DATA), btc(), CONFIG, FixedStopTakeProfit(2, 4), D(100_000))
            self.after_inner = gc.get_threshold()
        if self.fail:
            raise RuntimeError("signals failed")
        return super()._signals(data)


def test_full_passes_are_held_off_during_the_run_and_restored_after(custom_thresholds: None) -> None:
    strategy = Watching([0, 1, 0, 0, 0])
    result = run_backtest(strategy, bars(*DATA), btc(), CONFIG, FixedStopTakeProfit(2, 4), D(100_000))
    assert strategy.seen == [(911, 13, 1 << 30)]  # young generations untouched, the oldest held off
    assert gc.get_threshold() == CUSTOM
    assert len(result.fills) == 1  # the run itself is unaffected: the entry filled at bar 2's open


def test_thresholds_are_restored_when_the_run_fails(custom_thresholds: None) -> None:
    strategy = Watching([0, 1, 0, 0, 0], fail=True)
    with pytest.raises(RuntimeError, match="signals failed"):
        run_backtest(strategy, bars(*DATA), btc(), CONFIG, FixedStopTakeProfit(2, 4), D(100_000))
    assert strategy.seen == [(911, 13, 1 << 30)]
    assert gc.get_threshold() == CUSTOM


def test_a_run_inside_a_run_keeps_the_hold_until_the_outer_run_ends(custom_thresholds: None) -> None:
    strategy = Watching([0, 1, 0, 0, 0], inner=True)
    run_backtest(strategy, bars(*DATA), btc(), CONFIG, FixedStopTakeProfit(2, 4), D(100_000))
    assert strategy.after_inner == (911, 13, 1 << 30)  # the inner run's end did not lift the outer run's hold
    assert gc.get_threshold() == CUSTOM


def test_runs_that_keep_overlapping_still_get_a_full_pass_every_few_runs(custom_thresholds: None) -> None:
    from tradeloom.trading.backtest import _CollectorHold

    hold = _CollectorHold(catch_up_every=3)
    before = gc.get_stats()[2]["collections"]
    outer = hold.held()
    outer.__enter__()  # one run that never ends while others come and go (a threaded optimiser worker)
    for _ in range(6):
        with hold.held():
            assert gc.get_threshold()[2] == 1 << 30
    assert gc.get_stats()[2]["collections"] - before == 2  # runs 3 and 6 ended under the hold: one full pass each
    outer.__exit__(None, None, None)
    assert gc.get_threshold() == CUSTOM  # the last run out puts the caller's thresholds back
