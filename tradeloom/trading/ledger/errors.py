"""What the ledger refuses: a record that contradicts one it holds, a schema it does not know."""

from __future__ import annotations

from tradeloom.errors import PermanentError


class LedgerConflictError(PermanentError):
    """The ledger already holds a different record under this id (an order or a fill); nothing was written."""


class LedgerSchemaError(PermanentError):
    """The ledger database is at a schema revision this code does not know."""
