"""A scripted strategy (a real Strategy with signals given up front) and test policies and gates."""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

import numpy as np
from pydantic import BaseModel

from tradeloom.trading.events import Fill
from tradeloom.trading.orders import Purpose
from tradeloom.trading.policy import EntryPlan, EntryRequest, Intent, PositionState, SetStop
from tradeloom.trading.risk_gate import ACCEPT, AccountView, OrderRequest, RiskDecision, refuse, shrink
from tradeloom.trading.strategies.base import Bars, PositionSide, Signals, Strategy


class Scripted(Strategy):
    """Signals fixed in advance by bar index (causal by construction)."""

    name = "scripted"

    class Params(BaseModel):
        pass

    def __init__(self, entry: Sequence[int], exit_: Sequence[bool] | None = None) -> None:
        super().__init__({})
        self._entry = np.asarray(entry, dtype=np.int8)
        self._exit = np.zeros(len(entry), np.bool_) if exit_ is None else np.asarray(exit_, dtype=np.bool_)

    @property
    def warmup(self) -> int:
        return 0

    def _signals(self, bars: Bars) -> Signals:
        n = len(bars)
        return Signals(self._entry[:n], self._exit[:n], np.ones(n))

    def reason(self, side: PositionSide) -> str:
        return f"scripted {side.name.lower()}"


class TrailingStop:
    """Moves the stop to ``trail`` below each bar's high (never down): a policy that wants market data."""

    wants_market_data = True

    def __init__(self, trail: Decimal, quantity: Decimal = Decimal(1)) -> None:
        self.trail, self.quantity = trail, quantity
        self.best: dict[str, Decimal] = {}

    def plan_entry(self, request: EntryRequest) -> EntryPlan | None:
        return EntryPlan(self.quantity, request.reference_price - self.trail, "fixed")

    def on_fill(self, state: PositionState, fill: Fill, purpose: Purpose) -> Sequence[Intent]:
        if purpose is Purpose.ENTRY and state.quantity:
            self.best[state.position_id] = state.average_entry - self.trail
            return (SetStop(state.average_entry - self.trail, "stop"),)
        return ()

    def on_market_data(self, state: PositionState) -> Sequence[Intent]:
        stop = Decimal(repr(state.high)) - self.trail
        if stop > self.best[state.position_id]:
            self.best[state.position_id] = stop
            return (SetStop(stop, "trailing"),)
        return ()


class MaxQuantityGate:
    """A risk gate: entries above ``limit`` are shrunk to it, entries at or below ``refuse_below`` refused."""

    def __init__(self, limit: Decimal, refuse_below: Decimal = Decimal(0)) -> None:
        self.limit, self.refuse_below = limit, refuse_below
        self.seen: list[tuple[str, Purpose, Decimal]] = []
        self.fills: list[str] = []

    def check(self, request: OrderRequest, account: AccountView) -> RiskDecision:
        order = request.order
        self.seen.append((order.client_order_id, order.purpose, account.equity))
        if order.purpose is not Purpose.ENTRY:
            return ACCEPT
        if order.quantity <= self.refuse_below:
            return refuse(f"entry of {order.quantity} is too small to be worth it")
        if order.quantity > self.limit:
            return shrink(self.limit, f"size capped at {self.limit}")
        return ACCEPT

    def on_fill(self, fill: Fill, purpose: Purpose, account: AccountView) -> None:
        self.fills.append(fill.fill_id)
