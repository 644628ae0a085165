"""Instruments, equity snapshots and the trading state the risk side keeps (kill switch, breakers).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DECIMAL = sa.String(80)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create instruments, equity_snapshots and trading_state."""
    op.create_table(
        "instruments",
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base", sa.String(16), nullable=False),
        sa.Column("quote", sa.String(16), nullable=False),
        sa.Column("tick_size", DECIMAL, nullable=False),
        sa.Column("lot_size", DECIMAL, nullable=False),
        sa.Column("min_notional", DECIMAL, nullable=False),
        sa.Column("max_notional", DECIMAL),
        sa.Column("min_quantity", DECIMAL),
        sa.Column("price_precision", sa.Integer(), nullable=False),
        sa.Column("size_precision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("venue", "symbol", name="pk_instruments"),
    )
    op.create_table(
        "equity_snapshots",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("cash", DECIMAL, nullable=False),
        sa.Column("equity", DECIMAL, nullable=False),
        sa.Column("realised", DECIMAL, nullable=False),
        sa.Column("unrealised", DECIMAL, nullable=False),
        sa.Column("fees", DECIMAL, nullable=False),
    )
    op.create_index("ix_equity_snapshots_ts", "equity_snapshots", ["venue", "ts"])
    op.create_table(
        "trading_state",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    """Drop what upgrade made."""
    op.drop_table("trading_state")
    op.drop_table("equity_snapshots")
    op.drop_table("instruments")
