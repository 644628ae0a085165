"""Prefect global concurrency and rate limits, and decorators that put them on tasks.

The limits exist on the Prefect server (``ensure_limits`` creates or updates them), so
they hold across processes: two flow runs never write the market store at once, and
Alpha Vantage never sees more than one call a second or its daily quota.

A slot is held through Prefect's lease API (the calls ``prefect.concurrency.sync.concurrency``
makes) with one difference: on a SQLite-backed Prefect server, taking a slot right after task
runs often meets "database is locked" (the server's increment reads, then writes, while it is
recording those task runs' states) and answers 503; Prefect's client then waits ~2 s before
asking again, so every store write paid ~2 s. ``holding`` asks again after a few milliseconds.
Rate-limit slots (the calls ``prefect.concurrency.sync.rate_limit`` makes) are taken the same way,
so a Yahoo or Alpha Vantage fetch right after task runs does not pay those ~2 s either, and a lease
is released the same way. A server that answers nothing but 503 for SERVER_BUSY_SECONDS is given up on.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import math
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, ParamSpec, Sequence, TypeVar
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.context import FlowRunContext, TaskRunContext
from prefect.events import Event, emit_event

from tradeloom.errors import PermanentError, TransientError

P = ParamSpec("P")
R = TypeVar("R")

MARKET_STORE_WRITER = "tradeloom-market-store-writer"
ALPHAVANTAGE_PER_SECOND = "tradeloom-alphavantage-per-second"
ALPHAVANTAGE_PER_DAY = "tradeloom-alphavantage-per-day"
YAHOO_PER_SECOND = "tradeloom-yahoo-per-second"

# The server's shortest lease; renewed every 3/4 of it while held, so a holder that dies
# (a killed process) blocks the other writers for at most a minute.
LEASE_SECONDS = 60.0
# How long a Prefect server answering only 503 is asked again before ServerBusyError.
SERVER_BUSY_SECONDS = 60.0
_FAST_FAIL_PATHS = tuple(f"/v2/concurrency_limits/{endpoint}"
                         for endpoint in ("increment", "increment-with-lease", "decrement-with-lease"))
_FIRST_BUSY_PAUSE, _LONGEST_BUSY_PAUSE = 0.02, 1.0

_log = logging.getLogger(__name__)


class SlotTimeoutError(TimeoutError):
    """A slot of a global concurrency or rate limit could not be taken within the caller's timeout."""


class ServerBusyError(TransientError):
    """The Prefect server answered only 503 (its database busy) to a slot request for SERVER_BUSY_SECONDS."""


class _ServerBusy(Exception):
    """The Prefect server answered 503 (its database was busy) to a slot request; nothing was changed."""


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


def _fail_fast_when_busy(response: httpx.Response) -> None:
    # Raised before Prefect's client sees the 503, so it does not sleep 2 s; ``_answered`` retries sooner.
    if response.status_code == 503 and response.request.url.path.endswith(_FAST_FAIL_PATHS):
        raise _ServerBusy()


@contextmanager
def _slot_client() -> Iterator[SyncPrefectClient]:
    """A Prefect client whose slot increments and releases fail fast with _ServerBusy on a 503."""
    with get_client(sync_client=True, httpx_settings={"event_hooks": {"response": [_fail_fast_when_busy]}}) as client:
        yield client


def _answered(request: Callable[[], httpx.Response], what: str, timeout_seconds: float | None = None,
              while_taken: str | None = None, busy_seconds: float = SERVER_BUSY_SECONDS) -> httpx.Response:
    """The response to ``request`` (a slot request), asked again while the server is busy or the slot taken.

    A 503 is asked again after 20 ms, doubling up to 1 s; after ``busy_seconds`` of nothing but 503
    ServerBusyError names ``what``. A 423 (only when ``while_taken`` says why it is expected) is asked
    again after the server's Retry-After; after ``timeout_seconds`` (None: no end) SlotTimeoutError.
    """
    deadline = math.inf if timeout_seconds is None else time.monotonic() + timeout_seconds
    busy_since, busy_pause, reason = None, _FIRST_BUSY_PAUSE, ""
    while True:
        try:
            return request()
        except _ServerBusy:
            now = time.monotonic()
            busy_since = now if busy_since is None else busy_since
            if now - busy_since >= busy_seconds:
                raise ServerBusyError(f"could not {what}: the Prefect server stayed busy "
                                      f"(answered 503) for {busy_seconds:g} s") from None
            wait = min(busy_pause, busy_since + busy_seconds - now)
            busy_pause = min(busy_pause * 2, _LONGEST_BUSY_PAUSE)
            reason = reason or "the Prefect server stayed busy"  # a denial seen earlier says more
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 423 or while_taken is None:
                raise
            busy_since, busy_pause = None, _FIRST_BUSY_PAUSE  # an answer: the server is not stuck
            # Not sooner: every denial restarts the server's decay clock, so eager polling would starve.
            wait, reason = float(error.response.headers.get("Retry-After", 1.0)), while_taken
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SlotTimeoutError(f"could not {what} within {timeout_seconds:g} s: {reason}")
        time.sleep(min(wait, remaining))


def _current_holder() -> ConcurrencyLeaseHolder | None:
    """The task run (else flow run) taking the slot, shown with the lease in the Prefect UI."""
    task_run = TaskRunContext.get()
    if task_run is not None:
        return ConcurrencyLeaseHolder(type="task_run", id=task_run.task_run.id)
    flow_run = FlowRunContext.get()
    if flow_run is not None and flow_run.flow_run is not None:
        return ConcurrencyLeaseHolder(type="flow_run", id=flow_run.flow_run.id)
    return None


def _acquire(client: SyncPrefectClient, name: str, timeout_seconds: float) -> tuple[UUID, dict]:
    """The lease id and the limit of one slot of ``name``, waiting while it is taken."""
    holder = _current_holder()
    granted = _answered(
        lambda: client.increment_concurrency_slots_with_lease(
            names=[name], slots=1, mode="concurrency", lease_duration=LEASE_SECONDS, holder=holder
        ),
        f"take the slot of global concurrency limit {name!r}", timeout_seconds, "another holder kept it",
    ).json()
    if not granted["limits"]:
        raise PermanentError(f"global concurrency limit {name!r} does not exist on the Prefect API "
                             "(ensure_limits creates it)")
    return UUID(granted["lease_id"]), granted["limits"][0]


@contextmanager
def _renewed(lease_id: UUID) -> Iterator[None]:
    """Renew the lease every 3/4 of its duration until the block ends."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE_SECONDS * 0.75):
            try:
                with get_client(sync_client=True) as client:
                    client.renew_concurrency_lease(lease_id=lease_id, lease_duration=LEASE_SECONDS)
            except Exception:  # noqa: BLE001 (the holder goes on; the lease may lapse and be taken)
                _log.warning("could not renew concurrency lease %s", lease_id, exc_info=True)

    # The copied context carries the Prefect settings (API URL) into the thread.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(renew,), daemon=True,
                              name=f"lease-renewal-{lease_id}")
    thread.start()
    try:
        yield
    finally:
        stop.set()


def _limit_event(phase: str, limit: dict, follows: Event | None = None) -> Event | None:
    """The event Prefect's ``concurrency()`` emits when a slot is acquired or released."""
    resource = {"prefect.resource.id": f"prefect.concurrency-limit.{limit['id']}",
                "prefect.resource.name": limit["name"], "slots-acquired": "1", "limit": str(limit["limit"])}
    return emit_event(f"prefect.concurrency-limit.{phase}", resource=resource, follows=follows)


def _release(client: SyncPrefectClient, lease_id: UUID, limit: dict, acquired: Event | None) -> None:
    """Give back the slot of ``limit`` held by ``lease_id``, asking again while the server is busy.

    A failure is logged, not raised: the block's work is done (or its own error is what matters),
    and the lease expires by itself within LEASE_SECONDS.
    """
    try:
        _answered(lambda: client.release_concurrency_slots_with_lease(lease_id=lease_id),
                  f"release lease {lease_id} of global concurrency limit {limit['name']!r}")
    except Exception:
        _log.warning("could not release concurrency lease %s of %r; it expires within %g s",
                     lease_id, limit["name"], LEASE_SECONDS, exc_info=True)
        return
    _limit_event("released", limit, follows=acquired)


@contextmanager
def holding(name: str, timeout_seconds: float = 600) -> Iterator[None]:
    """Hold the one slot of global concurrency limit ``name`` for the block, across processes.

    Raises SlotTimeoutError when the slot stays taken for ``timeout_seconds`` (nothing is run),
    PermanentError when the limit does not exist (it would not serialise anything) and
    ServerBusyError when the server answers only 503 for SERVER_BUSY_SECONDS. A failed release is
    only logged (the lease expires within LEASE_SECONDS): the block's own result or error stands.
    """
    with _slot_client() as client:
        lease_id, limit = _acquire(client, name, timeout_seconds)
        acquired = _limit_event("acquired", limit)
        try:
            with _renewed(lease_id):
                yield
        finally:
            _release(client, lease_id, limit, acquired)  # logs a failure: never masks the block's outcome


def serialised(name: str, timeout_seconds: float = 600) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function holding the one slot of global concurrency limit ``name``."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with holding(name, timeout_seconds):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


def take_rate_slots(names: Sequence[str], timeout_seconds: float | None = None) -> None:
    """Take one slot of each rate limit in ``names`` (slot-decaying global limits), waiting while they are spent.

    Raises SlotTimeoutError naming the limits when they stay exhausted for ``timeout_seconds``
    (None waits as long as it takes), PermanentError when one does not exist and ServerBusyError
    when the server answers only 503 for SERVER_BUSY_SECONDS.
    """
    if not names:
        raise ValueError("take_rate_slots needs the name of at least one rate limit")
    listed = ", ".join(repr(name) for name in names)
    what, while_taken = ((f"take a slot of rate limit {listed}", "it stayed exhausted") if len(names) == 1 else
                         (f"take a slot of each of the rate limits {listed}", "one or more stayed exhausted"))
    with _slot_client() as client:
        granted = _answered(lambda: client.increment_concurrency_slots(names=list(names), slots=1, mode="rate_limit"),
                            what, timeout_seconds, while_taken).json()
    missing = [name for name in names if name not in {limit["name"] for limit in granted}]
    if missing:
        raise PermanentError(f"rate limit(s) {', '.join(map(repr, missing))} do not exist on the Prefect API "
                             "(ensure_limits creates them)")
    for limit in granted:
        _limit_event("acquired", limit)


def rate_limited(*names: str, timeout_seconds: float | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Take one slot of each rate limit in ``names`` before every call of the decorated function.

    With ``timeout_seconds`` set, a limit that stays exhausted (a spent daily quota) raises
    SlotTimeoutError (a TimeoutError) naming the limits instead of blocking the run for hours.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            take_rate_slots(names, timeout_seconds)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
