"""Ledger schema revisions, numbered in order (0001, 0002, ...); never edit one that has shipped.

A new revision also updates ``schema.py`` and ``migrate.HEAD_REVISION`` (tests check both).
On SQLite, a batch operation that rebuilds ``order_events`` or ``fills`` drops their
append-only triggers: create them again in the same revision.
"""
