"""How the ``tradeloom`` command prints: rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

console = Console(stderr=True)
JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON on stdout.")


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, Path)):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(value: Any) -> None:
    """Write ``value`` as JSON to stdout (the only thing on stdout, so scripts can parse it)."""
    typer.echo(json.dumps(value, default=_default, indent=2))


def parse_moment(text: str | None, option: str) -> datetime | None:
    """An ISO date or date-time from the command line, as UTC (a naive one is taken as UTC)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date or date-time such as 2019-02-04T00:00", param_hint=option) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
