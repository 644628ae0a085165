"""A new ledger on the same file sees what the last one wrote, even after a crash: crash recovery's ground."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal as D
from pathlib import Path

from tests.trading.ledger.builders import fill_of, limit_order, order_fields
from tradeloom.trading.ledger import SqlLedger, default_ledger_url
from tradeloom.trading.orders import OrderStatus, Side

REPO = Path(__file__).resolve().parents[3]


def _trade_some(ledger: SqlLedger) -> None:
    entry = limit_order("entry-1", quantity="2", price="100")
    ledger.record_order(entry)
    entry.transition(OrderStatus.SUBMITTED)
    entry.transition(OrderStatus.ACCEPTED)
    entry.venue_order_id = "v-entry-1"
    entry.record_fill(D("2"), D("100"))
    ledger.record_order(entry)
    ledger.record_fill(fill_of("f-1", Side.BUY, "2", "100", fee="0.2", client_order_id="entry-1", ts=10))
    stop = limit_order("stop-1", quantity="2", price="95", side=Side.SELL, created_ns=11)
    ledger.record_order(stop)
    stop.transition(OrderStatus.SUBMITTED)
    ledger.record_order(stop)
    take = limit_order("tp-1", quantity="2", price="110", side=Side.SELL, created_ns=12)
    ledger.record_order(take)
    take.transition(OrderStatus.SUBMITTED)
    take.transition(OrderStatus.ACCEPTED)
    take.record_fill(D("0.5"), D("110"))
    ledger.record_order(take)
    ledger.record_fill(fill_of("f-2", Side.SELL, "0.5", "110", fee="0.055", client_order_id="tp-1", ts=13))


def _assert_recovered(ledger: SqlLedger) -> None:
    assert [(o.client_order_id, o.status) for o in ledger.open_orders()] == [
        ("stop-1", OrderStatus.SUBMITTED), ("tp-1", OrderStatus.PARTIALLY_FILLED)]
    assert ledger.order("entry-1") is not None and ledger.order("entry-1").status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert [fill.fill_id for fill in ledger.fills()] == ["f-1", "f-2"]
    position = ledger.positions()["BTCUSD"]
    assert (position.quantity, position.average_entry, position.realised_pnl, position.fees) == (
        D("1.5"), D("100"), D("5.0"), D("0.255"))


def test_a_reopened_ledger_sees_open_orders_fills_and_positions(tmp_path: Path) -> None:
    url = default_ledger_url(tmp_path / "home")  # the home directory does not exist yet
    with SqlLedger(url, venue="sim") as first:
        _trade_some(first)
        before = [order_fields(o) for o in first.open_orders()]
    with SqlLedger(url, venue="sim") as second:
        _assert_recovered(second)
        assert [order_fields(o) for o in second.open_orders()] == before
    with SqlLedger(url, venue="other") as other:
        assert other.open_orders() == [] and other.positions() == {}


def test_a_process_killed_without_closing_loses_nothing(ledger_url: str, tmp_path: Path) -> None:
    url = ledger_url  # already migrated, so the child only trades
    program = textwrap.dedent(f"""
        import os
        from tests.trading.ledger.test_recovery import _trade_some
        from tradeloom.trading.ledger import SqlLedger
        ledger = SqlLedger({url!r}, venue="sim")
        _trade_some(ledger)
        os._exit(9)  # no close, no checkpoint: what a crash leaves
    """)
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 9, result.stderr
    assert (tmp_path / "ledger.sqlite-wal").exists()  # the writes are in the WAL, not yet checkpointed
    with SqlLedger(url, venue="sim") as recovered:
        _assert_recovered(recovered)
