"""Prefect global concurrency and rate limits, and decorators that put them on tasks.

The limits exist on the Prefect server (``ensure_limits`` creates or updates them), so
they hold across processes: two flow runs never write the market store at once, and
Alpha Vantage never sees more than one call a second or its daily quota.
"""

from __future__ import annotations

import functools
from typing import Callable, ParamSpec, TypeVar

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency, rate_limit

P = ParamSpec("P")
R = TypeVar("R")

MARKET_STORE_WRITER = "tradeloom-market-store-writer"
ALPHAVANTAGE_PER_SECOND = "tradeloom-alphavantage-per-second"
ALPHAVANTAGE_PER_DAY = "tradeloom-alphavantage-per-day"
YAHOO_PER_SECOND = "tradeloom-yahoo-per-second"


def ensure_limits(alphavantage_calls_per_day: int) -> None:
    """Create or update every limit tradeloom's tasks use on the current Prefect API."""
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(MARKET_STORE_WRITER, limit=1)
        client.upsert_global_concurrency_limit_by_name(ALPHAVANTAGE_PER_SECOND, limit=1, slot_decay_per_second=1.0)
        client.upsert_global_concurrency_limit_by_name(
            ALPHAVANTAGE_PER_DAY,
            limit=alphavantage_calls_per_day,
            slot_decay_per_second=alphavantage_calls_per_day / 86_400,
        )
        client.upsert_global_concurrency_limit_by_name(YAHOO_PER_SECOND, limit=1, slot_decay_per_second=1.0)


def serialised(name: str, timeout_seconds: float = 600) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function holding the one slot of global concurrency limit ``name``."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with concurrency(name, occupy=1, timeout_seconds=timeout_seconds):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


def rate_limited(*names: str, timeout_seconds: float | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Take one slot of each rate limit in ``names`` before every call of the decorated function.

    With ``timeout_seconds`` set, a limit that stays exhausted (a spent daily quota) raises
    TimeoutError instead of blocking the run for hours.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            rate_limit(list(names), timeout_seconds=timeout_seconds)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
