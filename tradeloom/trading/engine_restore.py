"""Restart: rebuild the engine's state from the ledger, then reconcile it with the venue.

The ledger has every fill and every order as last recorded. On start the engine replays the
fills into its account, takes back the orders still open (and the position they protect),
then asks the venue what happened while it was away: fills it has not seen are applied as if
they had just arrived (so brackets are kept consistent), orders the venue no longer works
are closed, and a position that disagrees with the venue's is reported. Nothing is sent
twice: an order is only ever sent once, after it was recorded, under its client order id.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradeloom.trading.brackets import ManagedPosition
from tradeloom.trading.events import OrderCanceled
from tradeloom.trading.orders import OrderStatus, Purpose, Side

if TYPE_CHECKING:
    from tradeloom.trading.engine import Engine

ZERO = Decimal(0)


def restore(engine: Engine) -> list[str]:
    """Reload ``engine`` from its ledger and reconcile with its venue; returns what was found and repaired."""
    ledger = engine.ledger
    if ledger is None:
        raise ValueError("cannot restore an engine without a ledger")
    if engine.orders or engine.fills:
        raise ValueError("restore must run before the engine has traded")
    symbol = engine.instrument.symbol
    notes: list[str] = []
    opened_ts = -1
    seen = set()
    for fill in ledger.fills():
        if fill.symbol != symbol:
            continue
        was_flat = engine.account.position.quantity == 0
        engine.account.apply(fill)
        engine.fills.append(fill)
        seen.add(fill.fill_id)
        if was_flat:
            opened_ts = fill.ts
    for order in ledger.open_orders():
        if order.symbol == symbol:
            engine.orders[order.client_order_id] = order
            engine.open_orders[order.client_order_id] = order
    _rebuild_positions(engine, opened_ts)
    _continue_ids(engine)
    missed, _ = engine.venue.fills_since(0)
    for fill in missed:
        if fill.symbol == symbol and fill.fill_id not in seen and fill.client_order_id in engine.orders:
            notes.append(f"fill {fill.fill_id} of {fill.client_order_id} happened while away")
            engine.on_order_event(fill)
    at_venue = {o.client_order_id: o for o in engine.venue.open_orders()}
    for cid, order in list(engine.open_orders.items()):
        if cid not in at_venue:
            notes.append(f"order {cid} is no longer working at the venue")
            engine.on_order_event(OrderCanceled(cid, engine.clock.now_ns(), "not working at the venue on restart"))
        elif order.status is OrderStatus.SUBMITTED and at_venue[cid].status is not OrderStatus.SUBMITTED:
            order.venue_order_id = at_venue[cid].venue_order_id
            order.transition(OrderStatus.ACCEPTED)
    for cid in at_venue:
        if cid not in engine.orders:
            notes.append(f"order {cid} at the venue is not in the ledger")
    ours = engine.account.position.quantity
    theirs = engine.venue.positions().get(symbol, ZERO)
    if ours != theirs:
        notes.append(f"position {ours} in the ledger but {theirs} at the venue")
    return notes


def _rebuild_positions(engine: Engine, opened_ts: int) -> None:
    """The managed position (and any pending entry) from the open orders' position ids and purposes."""
    groups: dict[str, ManagedPosition] = {}
    quantity = engine.account.position.quantity
    for order in engine.open_orders.values():
        pid = order.position_id or f"{engine.id_prefix}-restored"
        mp = groups.get(pid)
        if mp is None:
            side = order.side if order.purpose is Purpose.ENTRY else order.side.opposite
            mp = groups[pid] = ManagedPosition(pid, side, order.oco_group or f"{pid}-OCO")
        engine.order_position[order.client_order_id] = mp
        if order.purpose is Purpose.STOP:
            mp.stop = order
        elif order.purpose is Purpose.TAKE_PROFIT:
            mp.take_profit = order
        elif order.purpose is Purpose.ENTRY:
            mp.entries.append(order)
        else:
            mp.exits.append(order)
    if quantity:
        side = Side.BUY if quantity > 0 else Side.SELL
        held = [mp for mp in groups.values() if mp.side is side and (mp.stop or mp.take_profit or mp.exits)]
        mp = held[0] if held else engine.new_position(side)
        mp.opened_ts = opened_ts
        mp.last_entry_price = engine.account.position.average_entry or ZERO
        engine.open = mp
    pending = [mp for mp in groups.values() if mp.entries and mp is not engine.open]
    engine.pending = pending[0] if pending else None


def _continue_ids(engine: Engine) -> None:
    """Carry on numbering after the highest order and position numbers of this prefix the ledger shows."""
    prefix = f"{engine.id_prefix}-"
    orders, positions = [0], [0]
    for cid in [*engine.orders, *(f.client_order_id for f in engine.fills)]:
        if cid.startswith(prefix) and cid[len(prefix):].isdigit():
            orders.append(int(cid[len(prefix):]))
    for order in engine.orders.values():
        pid = order.position_id or ""
        if pid.startswith(f"{prefix}P") and pid[len(prefix) + 1:].isdigit():
            positions.append(int(pid[len(prefix) + 1:]))
    engine.continue_numbering(max(orders), max(positions))
