"""Column types and value conversions that keep money exact and times in UTC on any database.

Decimals are stored as their canonical text (``str(Decimal)``), so ``Decimal("0.00000001")``
and ``Decimal("1.10")`` come back identical, digits and exponent, on SQLite (whose NUMERIC is
a float) as on PostgreSQL. Times are stored as integer nanoseconds since the epoch (UTC): the
domain's own unit, exact, sortable and portable. JSON blobs carry decimals tagged so they come
back as ``Decimal``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DECIMAL_TAG = "$decimal"


DECIMAL_TEXT_LENGTH = 80


def storable_decimal(value: object, name: str) -> Decimal:
    """``value`` if a column can hold it exactly (a finite Decimal of at most 80 characters); else ValueError."""
    if not isinstance(value, Decimal):
        raise ValueError(f"{name} must be a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite, got the non-finite decimal {value!r}")
    if len(str(value)) > DECIMAL_TEXT_LENGTH:
        raise ValueError(f"{name} {value} is longer than the {DECIMAL_TEXT_LENGTH} characters a column holds")
    return value


def exact_decimal(value: object, name: str) -> Decimal:
    """``value`` as a finite Decimal (a float through its shortest repr); ValueError naming ``name`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a decimal number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, (Decimal, int, str)):
        raise ValueError(f"{name} must be a decimal number, got {type(value).__name__} {value!r}")
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} must be a decimal number, got {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return storable_decimal(result, name)


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text; NaN, infinities and more than 80 characters of digits are refused."""

    impl = String(DECIMAL_TEXT_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        """Decimal -> canonical text."""
        if value is None:
            return None
        return str(storable_decimal(value, "an exact column's value"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        """Canonical text -> Decimal."""
        return None if value is None else Decimal(value)


def utc_ns(moment: datetime, name: str = "time") -> int:
    """An aware datetime as nanoseconds since the epoch; ValueError for a naive one."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__} {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got the naive datetime {moment.isoformat()}")
    return ((moment - EPOCH) // _MICROSECOND) * 1000


def from_ns(ns: int) -> datetime:
    """Nanoseconds since the epoch as an aware UTC datetime (to the microsecond, exactly)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot store the non-finite decimal {value!r}")
        return {_DECIMAL_TAG: str(value)}
    if isinstance(value, datetime):
        raise ValueError(f"store times as ISO text or nanoseconds, not datetime objects: {value!r}")
    raise TypeError(f"{type(value).__name__} {value!r} cannot be stored as JSON")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _DECIMAL_TAG in obj:
        return Decimal(obj[_DECIMAL_TAG])
    return obj


def dump_json(value: Any, name: str) -> str:
    """``value`` as JSON text, decimals tagged to come back exact; ValueError naming ``name`` if JSON cannot hold it."""
    try:
        return json.dumps(value, default=_encode, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} cannot be stored: {error}") from None


def load_json(text: str) -> Any:
    """JSON text written by ``dump_json`` back to Python values, decimals as Decimal."""
    return json.loads(text, object_hook=_decode)
