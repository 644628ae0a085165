"""Small constructors of domain records for the ledger tests."""

from __future__ import annotations

from decimal import Decimal

from tradeloom.trading.events import Fill
from tradeloom.trading.orders import Liquidity, Order, OrderType, Purpose, Side


def limit_order(client_order_id: str, quantity: str = "1", price: str = "100", side: Side = Side.BUY,
                symbol: str = "BTCUSD", created_ns: int = 1) -> Order:
    """A GTC limit order in NEW status."""
    return Order(client_order_id, symbol, side, OrderType.LIMIT, Decimal(quantity), price=Decimal(price),
                 purpose=Purpose.ENTRY, created_ns=created_ns)


def order_fields(order: Order) -> dict[str, object]:
    """Every field of ``order`` (Order compares by identity)."""
    return {name: getattr(order, name) for name in Order.__slots__}


def fill_of(fill_id: str, side: Side, quantity: str, price: str, fee: str = "0", client_order_id: str = "c1",
            symbol: str = "BTCUSD", ts: int = 1, fee_currency: str = "USD") -> Fill:
    """A taker fill."""
    return Fill(fill_id, client_order_id, f"v-{client_order_id}", symbol, side, Decimal(price), Decimal(quantity),
                Decimal(fee), fee_currency, Liquidity.TAKER, ts)
