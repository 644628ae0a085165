"""Ledger schema revisions, numbered in order (0001, 0002, ...); never edit one that has shipped."""
