"""Equity snapshots and the trading-state switches (kill switch, circuit breakers) in the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from tradeloom.trading.ledger import schema
from tradeloom.trading.ledger.columns import from_ns, utc_ns
from tradeloom.trading.ledger.connection import LedgerDatabase
from tradeloom.trading.ledger.records import EquitySnapshot, StateEntry


class AccountRecords:
    """The part of SqlLedger that keeps equity snapshots and trading state."""

    _db: LedgerDatabase
    venue: str

    def record_equity(self, snapshot: EquitySnapshot) -> None:
        """Append an equity snapshot of this ledger's venue."""
        if not isinstance(snapshot, EquitySnapshot):
            raise TypeError(f"record_equity needs an EquitySnapshot, got {type(snapshot).__name__}")
        values = {
            "venue": self.venue,
            "ts": utc_ns(snapshot.ts),
            "cash": snapshot.cash,
            "equity": snapshot.equity,
            "realised": snapshot.realised,
            "unrealised": snapshot.unrealised,
            "fees": snapshot.fees,
        }
        with self._db.write() as connection:
            connection.execute(insert(schema.equity_snapshots).values(**values))

    def equity_snapshots(self, start: datetime | None = None, end: datetime | None = None) -> list[EquitySnapshot]:
        """Snapshots with start <= ts < end (either bound optional), oldest first."""
        table = schema.equity_snapshots
        query = select(table).where(table.c.venue == self.venue)
        if start is not None:
            query = query.where(table.c.ts >= utc_ns(start, "start"))
        if end is not None:
            query = query.where(table.c.ts < utc_ns(end, "end"))
        with self._db.read() as connection:
            rows = connection.execute(query.order_by(table.c.ts, table.c.seq)).mappings().all()
        return [
            EquitySnapshot(
                from_ns(row["ts"]), row["cash"], row["equity"], row["realised"], row["unrealised"], row["fees"]
            )
            for row in rows
        ]

    def set_state(self, key: str, value: str, reason: str, at: datetime) -> StateEntry:
        """Set the trading-state switch ``key`` (shared by every venue) to ``value``, saying why and when."""
        entry = StateEntry(key, value, reason, at)
        values = {"value": entry.value, "reason": entry.reason, "updated_ns": utc_ns(entry.updated_at)}
        schema.checked(schema.trading_state, {"key": key, **values}, "trading state")
        with self._db.write() as connection:
            exists = connection.execute(
                select(schema.trading_state.c.key).where(schema.trading_state.c.key == key)
            ).first()
            if exists is None:
                connection.execute(insert(schema.trading_state).values(key=key, **values))
            else:
                statement = update(schema.trading_state).where(schema.trading_state.c.key == key)
                connection.execute(statement.values(**values))
        return entry

    def get_state(self, key: str) -> StateEntry | None:
        """The switch ``key`` as last set, None if it never was."""
        return self.states().get(key)

    def states(self) -> dict[str, StateEntry]:
        """Every trading-state switch by key."""
        with self._db.read() as connection:
            rows = connection.execute(select(schema.trading_state)).mappings().all()
        return {
            row["key"]: StateEntry(row["key"], row["value"], row["reason"], from_ns(row["updated_ns"])) for row in rows
        }
