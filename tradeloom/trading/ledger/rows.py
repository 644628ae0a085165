"""Domain records <-> table rows: orders, order events, fills and instruments, field by field."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from tradeloom.trading.events import (
    Fill,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderModified,
    OrderRejected,
    OrderSubmitted,
)
from tradeloom.trading.instrument import Instrument, InstrumentKind
from tradeloom.trading.ledger.columns import dump_json, load_json, storable_decimal
from tradeloom.trading.orders import (
    Liquidity,
    Order,
    OrderStatus,
    OrderType,
    Purpose,
    Side,
    TimeInForce,
)

EVENT_KINDS: dict[type, str] = {
    OrderSubmitted: "submitted",
    OrderAccepted: "accepted",
    OrderModified: "modified",
    OrderCanceled: "canceled",
    OrderRejected: "rejected",
    OrderExpired: "expired",
    Fill: "filled",
}
EVENT_TYPES: dict[str, type] = {kind: cls for cls, kind in EVENT_KINDS.items()}

# What a later record of the same client order id may not change: it would be another order.
IDENTITY_FIELDS = ("symbol", "side", "order_type", "time_in_force", "post_only", "reduce_only", "purpose", "created_ns")


def _exact(value: object, name: str, optional: bool = False) -> Decimal | None:
    """``value`` if it is a finite Decimal (or None where allowed); ValueError naming ``name`` otherwise."""
    if value is None and optional:
        return None
    return storable_decimal(value, name)


def order_row(order: Order) -> dict[str, Any]:
    """The orders-table values of ``order`` (without venue and updated_ns); ValueError for an impossible order."""
    label = f"order {order.client_order_id}"
    quantity = storable_decimal(order.quantity, f"{label} quantity")
    filled = storable_decimal(order.filled_quantity, f"{label} filled_quantity")
    if quantity <= 0:
        raise ValueError(f"{label} quantity must be positive, got {quantity}")
    if not 0 <= filled <= quantity:
        raise ValueError(f"{label} has {filled} filled of {quantity}: impossible")
    return {
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "symbol": order.symbol,
        "side": Side(order.side).value,
        "order_type": OrderType(order.order_type).value,
        "time_in_force": TimeInForce(order.time_in_force).value,
        "post_only": bool(order.post_only),
        "reduce_only": bool(order.reduce_only),
        "purpose": Purpose(order.purpose).value,
        "quantity": quantity,
        "price": _exact(order.price, f"{label} price", optional=True),
        "stop_price": _exact(order.stop_price, f"{label} stop_price", optional=True),
        "filled_quantity": filled,
        "filled_notional": _exact(order.filled_notional, f"{label} filled_notional"),
        "status": OrderStatus(order.status).value,
        "status_reason": order.status_reason,
        "reason": order.reason,
        "oco_group": order.oco_group,
        "position_id": order.position_id,
        "created_ns": int(order.created_ns),
        "expire_ns": None if order.expire_ns is None else int(order.expire_ns),
    }


def order_from_row(row: Mapping[Any, Any]) -> Order:
    """The Order a stored row describes."""
    return Order(
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        order_type=OrderType(row["order_type"]),
        quantity=row["quantity"],
        price=row["price"],
        stop_price=row["stop_price"],
        time_in_force=TimeInForce(row["time_in_force"]),
        post_only=bool(row["post_only"]),
        reduce_only=bool(row["reduce_only"]),
        purpose=Purpose(row["purpose"]),
        status=OrderStatus(row["status"]),
        venue_order_id=row["venue_order_id"],
        filled_quantity=row["filled_quantity"],
        filled_notional=row["filled_notional"],
        oco_group=row["oco_group"],
        position_id=row["position_id"],
        reason=row["reason"],
        created_ns=row["created_ns"],
        expire_ns=row["expire_ns"],
        status_reason=row["status_reason"],
    )


def fill_row(fill: Fill) -> dict[str, Any]:
    """The fills-table values of ``fill`` (without venue)."""
    label = f"fill {fill.fill_id}"
    return {
        "fill_id": fill.fill_id,
        "client_order_id": fill.client_order_id,
        "venue_order_id": fill.venue_order_id,
        "symbol": fill.symbol,
        "side": Side(fill.side).value,
        "price": _exact(fill.price, f"{label} price"),
        "quantity": _exact(fill.quantity, f"{label} quantity"),
        "fee": _exact(fill.fee, f"{label} fee"),
        "fee_currency": fill.fee_currency,
        "liquidity": Liquidity(fill.liquidity).value,
        "ts": int(fill.ts),
    }


def fill_from_row(row: Mapping[Any, Any]) -> Fill:
    """The Fill a stored row describes."""
    return Fill(
        fill_id=row["fill_id"],
        client_order_id=row["client_order_id"],
        venue_order_id=row["venue_order_id"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        price=row["price"],
        quantity=row["quantity"],
        fee=row["fee"],
        fee_currency=row["fee_currency"],
        liquidity=Liquidity(row["liquidity"]),
        ts=row["ts"],
    )


def event_kind(event: OrderEvent) -> str:
    """The stored name of ``event``'s type; TypeError for anything that is not an order event."""
    kind = EVENT_KINDS.get(type(event))
    if kind is None:
        raise TypeError(f"{type(event).__name__} is not an order event ({', '.join(t.__name__ for t in EVENT_KINDS)})")
    return kind


def event_payload(event: OrderEvent) -> str:
    """``event``'s fields as JSON (decimals exact, enums by value)."""
    values = {}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        values[field.name] = value.value if isinstance(value, Enum) else value
    return dump_json(values, f"{type(event).__name__} {getattr(event, 'client_order_id', '')}")


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def event_from_row(kind: str, payload: str) -> OrderEvent:
    """The event a stored kind and payload describe."""
    cls = EVENT_TYPES[kind]
    hints = _field_types(cls)
    values = load_json(payload)
    for name, value in values.items():
        hint = hints[name]
        if value is None:
            continue
        if hint in (Side, Liquidity):
            values[name] = hint(value)
        elif hint is Decimal or Decimal in typing.get_args(hint):
            values[name] = value if isinstance(value, Decimal) else Decimal(value)
    return typing.cast(OrderEvent, cls(**values))


def instrument_row(instrument: Instrument) -> dict[str, Any]:
    """The instruments-table values of ``instrument`` (without venue)."""
    return {
        "symbol": instrument.symbol,
        "kind": InstrumentKind(instrument.kind).value,
        "base": instrument.base,
        "quote": instrument.quote,
        "tick_size": instrument.tick_size,
        "lot_size": instrument.lot_size,
        "min_notional": instrument.min_notional,
        "max_notional": instrument.max_notional,
        "min_quantity": instrument.min_quantity,
        "price_precision": instrument.price_precision,
        "size_precision": instrument.size_precision,
    }


def instrument_from_row(row: Mapping[Any, Any]) -> Instrument:
    """The Instrument a stored row describes."""
    return Instrument(
        symbol=row["symbol"],
        kind=InstrumentKind(row["kind"]),
        base=row["base"],
        quote=row["quote"],
        tick_size=row["tick_size"],
        lot_size=row["lot_size"],
        min_notional=row["min_notional"],
        max_notional=row["max_notional"],
        min_quantity=row["min_quantity"],
        price_precision=row["price_precision"],
        size_precision=row["size_precision"],
    )
