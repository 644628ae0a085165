"""Restart: a new engine rebuilds its state from the ledger and reconciles with the venue."""

from __future__ import annotations

from decimal import Decimal as D

from tests.trading.engine_support import Scripted
from tests.trading.memory_ledger import MemoryLedger
from tests.trading.venue_support import Recorder, bars, btc
from tradeloom.trading.clock import BacktestClock
from tradeloom.trading.engine import Engine
from tradeloom.trading.orders import OrderStatus
from tradeloom.trading.policy import FixedStopTakeProfit
from tradeloom.trading.simulated import FeeSchedule, SimulatedVenue, VenueConfig

CASH = D("100000")
DATA = bars((100, 100, 100, 100), (100, 101, 99, 100), (100, 101, 99.5, 100.5), (100.5, 101, 100, 100.8),
            (97, 97.5, 96, 97), (97, 98, 96.5, 97.5))
SIGNALS = [0, 1, 0, 0, 0, 0]


class EveryBar(FixedStopTakeProfit):
    """The fixed stop and target, but the engine hears every bar while a position is open (so pump() steps by one)."""

    wants_market_data = True


def session(venue: SimulatedVenue, ledger: MemoryLedger, clock: BacktestClock, prefix: str) -> Engine:
    return Engine(Scripted(SIGNALS), btc(), venue, clock, EveryBar(2, 4), cash=CASH, ledger=ledger, id_prefix=prefix)


def fresh() -> tuple[SimulatedVenue, MemoryLedger, BacktestClock]:
    venue = SimulatedVenue(btc(), DATA, VenueConfig(fees=FeeSchedule(D("0.001"), D("0.001"))), CASH)
    return venue, MemoryLedger({"BTCUSD": "USD"}), BacktestClock(int(DATA.ts[0]))


def fills_of(engine: Engine) -> list[tuple]:
    return [(f.side, f.price, f.quantity, f.ts) for f in engine.fills]


def test_a_restart_with_a_bracket_open_carries_on_as_if_nothing_happened() -> None:
    venue, ledger, clock = fresh()
    reference = session(venue, ledger, clock, "A")
    reference.run()
    venue, ledger, clock = fresh()
    first = session(venue, ledger, clock, "A")
    for _ in range(4):  # through bar 3: the entry filled at bar 2's open, stop and target rest
        venue.pump()
    assert first.open is not None and first.open.working_stop() is not None
    second = session(venue, ledger, clock, "B")
    assert second.restore() == []
    assert second.open is not None and second.open.stop.stop_price == D("98.00")  # type: ignore[union-attr]
    assert second.account.position.quantity == D("1")
    second.run()
    assert fills_of(second) == fills_of(reference)
    assert second.account.cash == reference.account.cash == venue.balances()["USD"]
    assert [o.status for o in ledger.open_orders()] == []


def test_fills_and_cancels_while_away_are_caught_up() -> None:
    venue, ledger, clock = fresh()
    first = session(venue, ledger, clock, "A")
    for _ in range(4):
        venue.pump()
    stop_id = first.open.stop.client_order_id  # type: ignore[union-attr]
    target_id = first.open.take_profit.client_order_id  # type: ignore[union-attr]
    venue.connect(Recorder())  # the engine is down: its events go nowhere
    venue.pump()  # bar 4 gaps through the stop; the venue's OCO cancels the target
    clock.observe(int(DATA.ts[4]) + 60_000_000_000)
    second = session(venue, ledger, clock, "B")
    notes = second.restore()
    fill_id = venue.fills_since(0)[0][-1].fill_id
    assert notes == [f"fill {fill_id} of {stop_id} happened while away", f"order {target_id} is no longer working at the venue"]
    assert second.account.position.quantity == 0 and second.open is None
    assert second.account.cash == venue.balances()["USD"] == CASH - D("100.1") + D("97") - D("0.097")
    assert ledger.order(stop_id).status is OrderStatus.FILLED
    assert ledger.order(target_id).status is OrderStatus.CANCELED
    assert ledger.positions()["BTCUSD"].quantity == 0
    assert ledger.open_orders() == []


def test_a_position_the_venue_disagrees_with_is_reported() -> None:
    venue, ledger, clock = fresh()
    first = session(venue, ledger, clock, "A")
    for _ in range(4):
        venue.pump()
    ledger._fills.clear()  # the ledger lost the entry fill  # noqa: SLF001
    second = session(venue, ledger, clock, "B")
    notes = second.restore()
    assert "position 0 in the ledger but 1.000 at the venue" in notes
    assert first.account.position.quantity == D("1")


def test_a_bounded_session_stops_at_its_time_and_carries_on() -> None:
    venue, ledger, clock = fresh()
    reference = session(venue, ledger, clock, "A")
    reference.run()
    venue, ledger, clock = fresh()
    engine = session(venue, ledger, clock, "A")
    assert engine.run(until_ns=int(DATA.ts[3])) is True
    assert clock.now_ns() >= int(DATA.ts[3]) and engine.account.position.quantity == D("1")
    assert engine.run() is False
    assert fills_of(engine) == fills_of(reference)
