"""SqlLedger: the Ledger protocol (and a little more) on SQLite or any SQLAlchemy database.

One ledger object sees one venue's orders, events, fills and instruments (``venue=``), so a
paper loop and a live loop may share a database without mixing positions. Positions are not
stored: they are folded from the fills, in the order recorded, with the domain's own fold.
Equity snapshots, trading state and backtest runs live in the same database (see
``account_store`` and ``run_store``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tradeloom.trading.clock import Clock, WallClock
from tradeloom.trading.events import Fill, OrderEvent
from tradeloom.trading.instrument import Instrument
from tradeloom.trading.ledger import account_store, run_store, schema
from tradeloom.trading.ledger.columns import from_ns
from tradeloom.trading.ledger.connection import BUSY_TIMEOUT_MS, LedgerDatabase
from tradeloom.trading.ledger.errors import LedgerConflictError
from tradeloom.trading.ledger.migrate import current_revision, ensure_current
from tradeloom.trading.ledger.order_updates import order_changes
from tradeloom.trading.ledger.rows import (
    event_from_row,
    event_kind,
    event_payload,
    fill_from_row,
    fill_row,
    instrument_from_row,
    instrument_row,
    order_from_row,
    order_row,
)
from tradeloom.trading.orders import OPEN_STATUSES, Order
from tradeloom.trading.positions import Position, fold

_OPEN = sorted(status.value for status in OPEN_STATUSES)


class SqlLedger(account_store.AccountRecords, run_store.BacktestRunRecords):
    """Durable trading state at a SQLAlchemy URL, migrated to the newest schema when opened."""

    def __init__(self, url: str, *, venue: str = "default", clock: Clock | None = None,
                 busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        if not isinstance(venue, str) or not venue.strip() or len(venue) > 64:
            raise ValueError(f"ledger venue must be a non-empty name of at most 64 characters, got {venue!r}")
        self.venue = venue
        self._clock: Clock = clock if clock is not None else WallClock()
        self._db = LedgerDatabase(url, busy_timeout_ms)
        try:
            ensure_current(self._db.engine)
        except BaseException:
            self._db.dispose()
            raise

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the database connections."""
        self._db.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL with any password masked (safe to log)."""
        return self._db.url

    def schema_revision(self) -> str | None:
        """The schema revision of the database (the newest one this code knows, once opened)."""
        return current_revision(self._db.engine)

    def __repr__(self) -> str:
        return f"SqlLedger({self.url!r}, venue={self.venue!r})"

    # -- orders ---------------------------------------------------------------------------

    def _order_key(self, client_order_id: str) -> Any:
        return and_(schema.orders.c.venue == self.venue, schema.orders.c.client_order_id == client_order_id)

    def record_order(self, order: Order) -> None:
        """Store ``order`` as it is now: insert it, or move its stored record along the lifecycle table."""
        values = schema.checked(schema.orders, order_row(order), f"order {order.client_order_id}")
        now = self._clock.now_ns()
        with self._db.write() as connection:
            query = select(schema.orders).where(self._order_key(order.client_order_id)).with_for_update()
            stored = connection.execute(query).mappings().first()
            if stored is None:
                connection.execute(insert(schema.orders).values(venue=self.venue, updated_ns=now, **values))
                return
            changes = order_changes(stored, values)
            if changes:
                statement = update(schema.orders).where(self._order_key(order.client_order_id))
                connection.execute(statement.values(updated_ns=now, **changes))

    def order(self, client_order_id: str) -> Order | None:
        """The order recorded under ``client_order_id``, None if there is none."""
        with self._db.read() as connection:
            row = connection.execute(select(schema.orders).where(self._order_key(client_order_id))).mappings().first()
        return None if row is None else order_from_row(row)

    def order_updated_at(self, client_order_id: str) -> datetime | None:
        """When the order's record last changed (by the ledger's clock), None if there is no such order."""
        query = select(schema.orders.c.updated_ns).where(self._order_key(client_order_id))
        with self._db.read() as connection:
            updated = connection.execute(query).scalar_one_or_none()
        return None if updated is None else from_ns(updated)

    def orders(self, *, open_only: bool = False) -> list[Order]:
        """Orders in the order they were created (open ones only if asked)."""
        query = select(schema.orders).where(schema.orders.c.venue == self.venue)
        if open_only:
            query = query.where(schema.orders.c.status.in_(_OPEN))
        query = query.order_by(schema.orders.c.created_ns, schema.orders.c.client_order_id)
        with self._db.read() as connection:
            return [order_from_row(row) for row in connection.execute(query).mappings()]

    def open_orders(self) -> Sequence[Order]:
        """Orders last recorded with an open status (NEW, SUBMITTED, ACCEPTED, PARTIALLY_FILLED)."""
        return self.orders(open_only=True)

    # -- events ---------------------------------------------------------------------------

    def record_event(self, event: OrderEvent) -> None:
        """Append an order event of an order already recorded (a Fill here is stored as an event, not a fill)."""
        kind = event_kind(event)
        row = {"venue": self.venue, "client_order_id": event.client_order_id, "kind": kind, "ts": int(event.ts),
               "payload": event_payload(event)}
        schema.checked(schema.order_events, row, f"{type(event).__name__} of order {event.client_order_id}")
        with self._db.write() as connection:
            known = connection.execute(
                select(schema.orders.c.status).where(self._order_key(event.client_order_id))
            ).first()
            if known is None:
                raise ValueError(
                    f"{type(event).__name__} for order {event.client_order_id}, which this ledger "
                    f"(venue {self.venue!r}) has not recorded: record the order before its events"
                )
            connection.execute(insert(schema.order_events).values(**row))

    def events(self, client_order_id: str | None = None) -> list[OrderEvent]:
        """Order events in the order recorded, of one order or of all."""
        table = schema.order_events
        query = select(table.c.kind, table.c.payload).where(table.c.venue == self.venue)
        if client_order_id is not None:
            query = query.where(table.c.client_order_id == client_order_id)
        with self._db.read() as connection:
            rows = connection.execute(query.order_by(table.c.seq)).all()
        return [event_from_row(kind, payload) for kind, payload in rows]

    # -- fills and positions --------------------------------------------------------------

    def record_fill(self, fill: Fill) -> None:
        """Store a fill once: an identical fill id seen before is ignored, a different one is a LedgerConflictError."""
        with self._db.write() as connection:
            self._store_fill(connection, fill)

    def record_fills(self, fills: Iterable[Fill]) -> int:
        """Store many fills in one transaction (reconciliation), each as ``record_fill`` would; how many were new."""
        batch: dict[str, Fill] = {}
        for fill in fills:
            if not isinstance(fill, Fill):
                raise TypeError(f"a fill must be a Fill, got {type(fill).__name__}")
            seen = batch.setdefault(fill.fill_id, fill)
            if seen != fill:
                raise LedgerConflictError(
                    f"fill {fill.fill_id} appears twice in one batch, differently: {seen} and {fill}"
                )
        with self._db.write() as connection:
            stored = self._stored_fills(connection, list(batch))
            for fill_id, fill in batch.items():
                if fill_id in stored and stored[fill_id] != fill:
                    raise LedgerConflictError(
                        f"fill {fill_id} is recorded as {stored[fill_id]}; the fill now reported under that id "
                        f"differs: {fill}"
                    )
            new = [
                schema.checked(schema.fills, {"venue": self.venue, **fill_row(fill)}, f"fill {fill_id}")
                for fill_id, fill in batch.items() if fill_id not in stored
            ]
            if new:
                connection.execute(insert(schema.fills), new)
        return len(new)

    def _stored_fills(self, connection: Connection, fill_ids: list[str]) -> dict[str, Fill]:
        stored: dict[str, Fill] = {}
        for start in range(0, len(fill_ids), 500):  # stay under the database's bound-parameter limit
            chunk = fill_ids[start:start + 500]
            query = select(schema.fills).where(schema.fills.c.venue == self.venue, schema.fills.c.fill_id.in_(chunk))
            stored.update((row["fill_id"], fill_from_row(row)) for row in connection.execute(query).mappings())
        return stored

    def _store_fill(self, connection: Connection, fill: Fill) -> bool:
        if not isinstance(fill, Fill):
            raise TypeError(f"a fill must be a Fill, got {type(fill).__name__}")
        values = schema.checked(schema.fills, {"venue": self.venue, **fill_row(fill)}, f"fill {fill.fill_id}")
        if connection.dialect.name in ("sqlite", "postgresql"):
            dialect_insert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
            statement = dialect_insert(schema.fills).values(**values)
            inserted = connection.execute(statement.on_conflict_do_nothing(index_elements=["venue", "fill_id"]))
            if inserted.rowcount == 1:
                return True
        stored = self._stored_fill(connection, fill.fill_id)
        if stored is None:
            connection.execute(insert(schema.fills).values(**values))
            return True
        if stored != fill:
            raise LedgerConflictError(
                f"fill {fill.fill_id} is recorded as {stored}; the fill now reported under that id differs: {fill}"
            )
        return False

    def _stored_fill(self, connection: Connection, fill_id: str) -> Fill | None:
        query = select(schema.fills).where(schema.fills.c.venue == self.venue, schema.fills.c.fill_id == fill_id)
        row = connection.execute(query).mappings().first()
        return None if row is None else fill_from_row(row)

    def fills(self, symbol: str | None = None) -> Sequence[Fill]:
        """Every fill (of one symbol, if given), in the order recorded."""
        with self._db.read() as connection:
            return self._fills(connection, symbol)

    def _fills(self, connection: Connection, symbol: str | None = None) -> list[Fill]:
        query = select(schema.fills).where(schema.fills.c.venue == self.venue)
        if symbol is not None:
            query = query.where(schema.fills.c.symbol == symbol)
        return [fill_from_row(row) for row in connection.execute(query.order_by(schema.fills.c.seq)).mappings()]

    def positions(self) -> dict[str, Position]:
        """Symbol -> position folded from the recorded fills (flat ones included: they carry realised PnL).

        The quote currency of a symbol is its recorded instrument's, else its first fill's fee currency.
        """
        with self._db.read() as connection:  # fills and instruments from one snapshot
            fills = self._fills(connection)
            quotes = {symbol: instrument.quote for symbol, instrument in self._instruments(connection).items()}
        by_symbol: dict[str, list[Fill]] = {}
        for fill in fills:
            by_symbol.setdefault(fill.symbol, []).append(fill)
        return {
            symbol: fold(symbol, quotes.get(symbol, of_symbol[0].fee_currency), of_symbol)
            for symbol, of_symbol in by_symbol.items()
        }

    # -- instruments ----------------------------------------------------------------------

    def record_instrument(self, instrument: Instrument) -> None:
        """Store ``instrument`` (replacing what was stored for its symbol: venues change their rules)."""
        values = schema.checked(
            schema.instruments, {"venue": self.venue, **instrument_row(instrument)}, f"instrument {instrument.symbol}"
        )
        key = and_(schema.instruments.c.venue == self.venue, schema.instruments.c.symbol == instrument.symbol)
        with self._db.write() as connection:
            if connection.execute(select(schema.instruments.c.symbol).where(key)).first() is None:
                connection.execute(insert(schema.instruments).values(**values))
            else:
                connection.execute(update(schema.instruments).where(key).values(**values))

    def instruments(self) -> dict[str, Instrument]:
        """Symbol -> instrument, as recorded."""
        with self._db.read() as connection:
            return self._instruments(connection)

    def _instruments(self, connection: Connection) -> dict[str, Instrument]:
        query = select(schema.instruments).where(schema.instruments.c.venue == self.venue)
        return {row["symbol"]: instrument_from_row(row) for row in connection.execute(query).mappings()}
