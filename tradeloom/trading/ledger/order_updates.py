"""What a later record of an order may change, judged by the domain's lifecycle table.

The engine may record an order after several steps in memory (a market order can go
SUBMITTED -> ACCEPTED -> FILLED inside one venue call), so the ledger accepts a new status
when the lifecycle table reaches it from the stored one, through any number of edges. What
it refuses is what no sequence of legal edges explains: going back (ACCEPTED -> NEW),
leaving a final status (FILLED -> CANCELED), a smaller filled quantity (a stale copy), or
the same client order id for a different order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradeloom.trading.ledger.errors import LedgerConflictError
from tradeloom.trading.ledger.rows import IDENTITY_FIELDS
from tradeloom.trading.orders import TRANSITIONS, IllegalTransitionError, OrderStatus


def _reachable(start: OrderStatus) -> frozenset[OrderStatus]:
    seen: set[OrderStatus] = set()
    frontier = list(TRANSITIONS[start])
    while frontier:
        status = frontier.pop()
        if status not in seen:
            seen.add(status)
            frontier.extend(TRANSITIONS[status])
    return frozenset(seen)


REACHABLE: dict[OrderStatus, frozenset[OrderStatus]] = {status: _reachable(status) for status in TRANSITIONS}
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def order_changes(stored: Mapping[Any, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of ``stored`` that ``new`` changes; IllegalTransitionError or LedgerConflictError if it may not."""
    order_id = stored["client_order_id"]
    for name in IDENTITY_FIELDS:
        if stored[name] != new[name]:
            raise LedgerConflictError(
                f"order {order_id} is recorded with {name}={stored[name]!r}; a record with {name}={new[name]!r} "
                "is a different order under the same client order id"
            )
    changes = {name: value for name, value in new.items() if name not in IDENTITY_FIELDS and stored[name] != value}
    if "venue_order_id" in changes:
        if new["venue_order_id"] is None:
            del changes["venue_order_id"]  # None means "not known here", not "forget it"
        elif stored["venue_order_id"] is not None:
            raise LedgerConflictError(
                f"order {order_id} has venue order id {stored['venue_order_id']!r}; "
                f"it cannot become {new['venue_order_id']!r}"
            )
    if not changes:
        return changes
    old_status, new_status = OrderStatus(stored["status"]), OrderStatus(new["status"])
    if old_status in FINAL:
        raise IllegalTransitionError(
            f"order {order_id} is {old_status.value}, a final status; its record cannot change "
            f"(asked: {new_status.value}, changing {', '.join(sorted(changes))})"
        )
    if new_status != old_status and new_status not in REACHABLE[old_status]:
        raise IllegalTransitionError(
            f"order {order_id}: illegal transition {old_status.value} -> {new_status.value} "
            "(no path in the lifecycle table)"
        )
    if new["filled_quantity"] < stored["filled_quantity"]:
        raise LedgerConflictError(
            f"order {order_id} has {stored['filled_quantity']} filled; a record with {new['filled_quantity']} "
            "filled is older than the one stored"
        )
    return changes
