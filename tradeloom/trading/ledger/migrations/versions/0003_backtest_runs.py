"""Backtest runs (strategy, parameters, data range, code version, metrics) and their trades.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DECIMAL = sa.String(80)


def upgrade() -> None:
    """Create backtest_runs and backtest_trades."""
    op.create_table(
        "backtest_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("strategy", sa.String(128), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("timeframe", sa.String(16), nullable=False),
        sa.Column("data_start_ns", sa.BigInteger(), nullable=False),
        sa.Column("data_end_ns", sa.BigInteger(), nullable=False),
        sa.Column("code_version", sa.String(128), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_backtest_runs_strategy", "backtest_runs", ["strategy", "created_ns"])
    op.create_table(
        "backtest_trades",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", DECIMAL, nullable=False),
        sa.Column("entry_ns", sa.BigInteger(), nullable=False),
        sa.Column("entry_price", DECIMAL, nullable=False),
        sa.Column("exit_ns", sa.BigInteger()),
        sa.Column("exit_price", DECIMAL),
        sa.Column("pnl", DECIMAL),
        sa.Column("fees", DECIMAL, nullable=False),
        sa.Column("exit_reason", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_backtest_trades"),
        sa.ForeignKeyConstraint(["run_id"], ["backtest_runs.run_id"], name="fk_backtest_trades_run"),
    )


def downgrade() -> None:
    """Drop what upgrade made."""
    op.drop_table("backtest_trades")
    op.drop_table("backtest_runs")
