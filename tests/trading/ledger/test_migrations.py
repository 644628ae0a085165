"""The schema is versioned: an old ledger is upgraded in place, opening twice changes nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tradeloom.trading.ledger import (
    EquitySnapshot,
    LedgerSchemaError,
    SqlLedger,
    current_revision,
    default_ledger_url,
    head_revision,
    migrate_ledger,
    upgrade,
)
from tradeloom.trading.ledger.connection import ledger_engine
from tradeloom.trading.ledger.migrate import HEAD_REVISION, VERSION_TABLE
from tradeloom.trading.ledger.schema import metadata
from tradeloom.trading.orders import OrderStatus, Side

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _v1_ledger(path: Path) -> None:
    engine = ledger_engine(f"sqlite:///{path}")
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    engine.dispose()
    raw = sqlite3.connect(path)
    with raw:
        raw.execute(
            "INSERT INTO orders VALUES ('sim', 'c-1', 'v-1', 'EURUSD', 'BUY', 'LIMIT', 'GTC', 0, 0, 'entry', "
            "'100000', '1.08345', NULL, '40000', '43338.00000', 'PARTIALLY_FILLED', '', 'sma cross', "
            "NULL, 'p-1', 5, NULL, 6)"
        )
        raw.execute("INSERT INTO order_events (venue, client_order_id, kind, ts, payload) "
                    "VALUES ('sim', 'c-1', 'submitted', 5, '{\"client_order_id\": \"c-1\", \"ts\": 5}')")
        raw.execute(
            "INSERT INTO fills (venue, fill_id, client_order_id, venue_order_id, symbol, side, price, quantity, fee, "
            "fee_currency, liquidity, ts) VALUES ('sim', 'f-1', 'c-1', 'v-1', 'EURUSD', 'BUY', '1.08345', '40000', "
            "'0.866760', 'USD', 'maker', 7)"
        )
    raw.close()


def test_the_head_revision_constant_is_the_newest_script() -> None:
    assert HEAD_REVISION == head_revision()


def _rows(path: Path, table: str) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        raw.close()


def test_a_version_1_ledger_is_upgraded_and_keeps_its_state(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _v1_ledger(path)
    assert head_revision() != "0001"
    with SqlLedger(f"sqlite:///{path}", venue="sim") as ledger:
        assert ledger.schema_revision() == head_revision()
        (order,) = ledger.open_orders()
        assert (order.client_order_id, order.status) == ("c-1", OrderStatus.PARTIALLY_FILLED)
        assert str(order.filled_notional) == "43338.00000"
        position = ledger.positions()["EURUSD"]
        assert (position.quantity, position.cost, position.fees) == (D("40000"), D("43338.00000"), D("0.866760"))
        assert position.side is Side.BUY
        # what the later revisions added works on the upgraded file
        ledger.record_equity(EquitySnapshot(T0, D("56662"), D("100000"), D("0"), D("0"), D("0.866760")))
        ledger.set_state("kill_switch", "engaged", "test", T0)
        assert ledger.get_state("kill_switch") is not None


def test_opening_twice_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _v1_ledger(path)
    url = f"sqlite:///{path}"
    SqlLedger(url, venue="sim").close()
    schema_before = _schema(path)
    SqlLedger(url, venue="sim").close()
    assert _schema(path) == schema_before
    assert _rows(path, "ledger_schema_version") == 1
    assert (_rows(path, "orders"), _rows(path, "order_events"), _rows(path, "fills")) == (1, 1, 1)


def test_a_ledger_from_a_newer_tradeloom_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    SqlLedger(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE ledger_schema_version SET version_num = '0099'")
    raw.close()
    with pytest.raises(LedgerSchemaError, match="'0099'.*upgrade tradeloom"):
        SqlLedger(f"sqlite:///{path}")


def test_the_tables_the_code_uses_are_the_tables_the_migrations_make(tmp_path: Path) -> None:
    engine = ledger_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        differences = [d for d in compare_metadata(context, metadata) if _about_tables_or_columns(d)]
    engine.dispose()
    assert differences == []


def _about_tables_or_columns(difference: object) -> bool:
    if isinstance(difference, list):  # column modifications come as lists of tuples
        return any(_about_tables_or_columns(item) for item in difference)
    kind = difference[0]  # type: ignore[index]
    return kind in ("add_table", "remove_table", "add_column", "remove_column") or str(kind).startswith("modify_")


def _schema(path: Path) -> list[tuple[str, str]]:
    raw = sqlite3.connect(path)
    try:
        return sorted(raw.execute("SELECT name, coalesce(sql, '') FROM sqlite_master").fetchall())
    finally:
        raw.close()


def test_bad_urls_are_refused_with_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'not a url' is not a SQLAlchemy URL"):
        SqlLedger("not a url")
    with pytest.raises(ValueError, match=r"trader:\*\*\*@127.0.0.1/ledger' needs the database driver 'pymssql'"):
        ledger_engine("mssql+pymssql://trader:hunter2@127.0.0.1/ledger")
    with pytest.raises(ValueError, match="venue must be a non-empty name"):
        SqlLedger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", venue="")


def test_a_failing_upgrade_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _v1_ledger(path)
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("CREATE TABLE trading_state (key TEXT)")  # in the way of revision 0002
    raw.close()
    with pytest.raises(LedgerSchemaError, match="from 0001 to head failed and nothing was changed.*trading_state"):
        SqlLedger(f"sqlite:///{path}")
    engine = ledger_engine(f"sqlite:///{path}")
    assert current_revision(engine) == "0001"
    engine.dispose()
    tables = {name for name, _ in _schema(path)}
    assert "instruments" not in tables and "equity_snapshots" not in tables  # 0002 was all or nothing
    assert _rows(path, "orders") == 1


def test_the_default_ledger_lives_under_the_home_directory(tmp_path: Path) -> None:
    assert default_ledger_url(Path(".tradeloom")) == "sqlite:///.tradeloom/ledger.sqlite"
    assert default_ledger_url(Path("/srv/tradeloom")) == "sqlite:////srv/tradeloom/ledger.sqlite"
    odd_home = tmp_path / "my home 100% #1?"
    with SqlLedger(default_ledger_url(odd_home)) as ledger:
        assert ledger.schema_revision() == head_revision()
    assert (odd_home / "ledger.sqlite").is_file()


def test_an_in_memory_ledger_works_for_one_process() -> None:
    with SqlLedger("sqlite://", venue="scratch") as ledger:
        ledger.set_state("kill_switch", "released", "", T0)
        ledger.record_equity(EquitySnapshot(T0, D("1"), D("1"), D("0"), D("0"), D("0")))
        assert ledger.get_state("kill_switch") is not None and len(ledger.equity_snapshots()) == 1


def test_an_operator_can_migrate_a_ledger_step_by_step(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert migrate_ledger(url, "0002") == "0002"
    assert migrate_ledger(url) == head_revision()
    assert migrate_ledger(url) == head_revision()
