"""Alembic migrations of the ledger schema, run programmatically by ``tradeloom.trading.ledger.migrate``."""
