"""Rate limits (slot-decaying Prefect global concurrency limits): the pace, a spent quota, no 2 s backoff after task runs."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client

from tests.flows.prefect_api_double import Answer, PrefectApiDouble
from tradeloom.errors import PermanentError, TransientError
from tradeloom.tasks.limits import (
    ServerBusyError,
    SlotTimeoutError,
    _answered,
    _slot_client,
    rate_limited,
    take_rate_slots,
)

INCREMENT = "/v2/concurrency_limits/increment"
BUSY = Answer(503, {"detail": "database is locked"})


def _rate_limit(calls: int, per_seconds: float) -> str:
    """A fresh rate limit of ``calls`` per ``per_seconds`` on the session's Prefect API."""
    name = f"test-rate-{uuid.uuid4().hex[:8]}"
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit=calls, slot_decay_per_second=calls / per_seconds)
    return name


def test_one_call_a_second_lets_exactly_one_of_a_burst_through_within_the_window() -> None:
    name = _rate_limit(1, per_seconds=1)
    through, timed_out = [], []
    guard = threading.Lock()

    @rate_limited(name, timeout_seconds=0.3)
    def fetch(caller: int) -> None:
        with guard:
            through.append(caller)

    def call(caller: int) -> None:
        try:
            fetch(caller)
        except SlotTimeoutError as error:
            with guard:
                timed_out.append(str(error))

    callers = [threading.Thread(target=call, args=(number,)) for number in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(30)

    # The window (0.3 s plus a request) ends before the first slot decays (1 s): one call, three timeouts.
    assert len(through) == 1
    assert timed_out == [f"could not take a slot of rate limit {name!r} within 0.3 s: it stayed exhausted"] * 3


def test_one_call_a_second_paces_successive_calls_about_a_second_apart() -> None:
    name = _rate_limit(1, per_seconds=1)
    granted: list[float] = []

    @rate_limited(name)
    def fetch() -> None:
        granted.append(time.monotonic())

    began = time.monotonic()
    for _ in range(4):
        fetch()
    took = time.monotonic() - began

    gaps = [later - earlier for earlier, later in zip(granted, granted[1:])]
    assert len(granted) == 4
    # The server frees the slot a whole second after it was last touched; its Retry-After adds jitter.
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert 3.0 <= took < 12.0, gaps


def test_a_spent_quota_times_out_naming_the_limit_without_calling() -> None:
    per_day = _rate_limit(2, per_seconds=86_400)
    ran: list[int] = []

    @rate_limited(per_day, timeout_seconds=0.5)
    def fetch(number: int) -> None:
        ran.append(number)

    fetch(1)
    fetch(2)
    began = time.monotonic()
    with pytest.raises(TimeoutError) as raised:
        fetch(3)
    waited = time.monotonic() - began

    assert isinstance(raised.value, SlotTimeoutError)
    assert str(raised.value) == f"could not take a slot of rate limit {per_day!r} within 0.5 s: it stayed exhausted"
    assert ran == [1, 2]
    assert 0.5 <= waited < 5


def test_a_spent_daily_quota_behind_a_free_per_second_limit_times_out_naming_both() -> None:
    per_second, per_day = _rate_limit(1, per_seconds=1), _rate_limit(1, per_seconds=86_400)
    take_rate_slots([per_day])  # the day's only call
    ran = []

    @rate_limited(per_second, per_day, timeout_seconds=0.5)
    def fetch() -> None:
        ran.append(True)

    with pytest.raises(SlotTimeoutError) as raised:
        fetch()

    assert str(raised.value) == (f"could not take a slot of each of the rate limits {per_second!r}, {per_day!r} "
                                 "within 0.5 s: one or more stayed exhausted")
    assert ran == []


def test_a_missing_rate_limit_is_an_error_not_a_free_pass() -> None:
    name = f"test-missing-rate-{uuid.uuid4().hex[:8]}"
    ran = []

    @rate_limited(name, timeout_seconds=5)
    def fetch() -> None:
        ran.append(True)

    with pytest.raises(PermanentError) as raised:
        fetch()

    assert str(raised.value) == (f"rate limit(s) {name!r} do not exist on the Prefect API "
                                 "(ensure_limits creates them)")
    assert ran == []


def test_no_rate_limit_named_is_an_error() -> None:
    with pytest.raises(ValueError, match="take_rate_slots needs the name of at least one rate limit"):
        take_rate_slots([])


def test_rate_limited_calls_right_after_task_runs_do_not_wait_for_the_clients_503_backoff() -> None:
    # The SQLite-backed server answers the increment 503 ("database is locked") while it records
    # the task runs just finished; Prefect's client would sleep ~2 s before asking again, each time.
    name = _rate_limit(1000, per_seconds=1)  # never exhausted here: any wait is the server being busy

    @rate_limited(name, timeout_seconds=30)
    def fetch() -> None:
        return None

    @task(cache_policy=NO_CACHE)
    def work(number: int) -> int:
        return number

    @task(cache_policy=NO_CACHE)
    def fetch_timed() -> float:
        began = time.monotonic()
        fetch()
        return time.monotonic() - began

    @flow
    def fetches_after_work() -> list[float]:
        waits = []
        for number in range(6):
            work.submit(number).result()
            waits.append(fetch_timed())
        return waits

    waits = fetches_after_work()
    assert len(waits) == 6 and sum(waits) < 4.0, waits


def _rate_granted(name: str) -> Answer:
    """Prefect's 200 to increment (a list of MinimalConcurrencyLimitResponse) for rate limit ``name``."""
    return Answer(200, [{"id": str(uuid.uuid4()), "name": name, "limit": 1}])


def test_a_rate_slot_answered_503_twice_is_taken_on_the_third_ask_without_the_clients_backoff(
        prefect_api: PrefectApiDouble) -> None:
    prefect_api.answer(INCREMENT, BUSY, BUSY, _rate_granted("yahoo"))

    began = time.monotonic()
    take_rate_slots(["yahoo"])  # no timeout, as the Yahoo fetch takes it
    took = time.monotonic() - began

    # Prefect's client alone would sleep about 2 s, then 4 s, before asking again.
    assert took < 1.0, took
    assert prefect_api.asked(INCREMENT) == [{"names": ["yahoo"], "slots": 1, "mode": "rate_limit"}] * 3
    assert prefect_api.events() == [("prefect.concurrency-limit.acquired", "yahoo")]


def test_a_spent_rate_limit_is_asked_for_again_after_the_servers_retry_after(prefect_api: PrefectApiDouble) -> None:
    prefect_api.answer(INCREMENT, Answer(423, {"detail": "Concurrency limit is locked"}, {"Retry-After": "0.2"}),
                       _rate_granted("yahoo"))

    began = time.monotonic()
    take_rate_slots(["yahoo"])
    took = time.monotonic() - began

    assert 0.2 <= took < 1.0, took
    assert len(prefect_api.asked(INCREMENT)) == 2


def _take_yahoo_slot(busy_seconds: float) -> httpx.Response:
    """take_rate_slots' request for 'yahoo', with no timeout and a short bound on a server answering 503."""
    with _slot_client() as client:
        return _answered(lambda: client.increment_concurrency_slots(names=["yahoo"], slots=1, mode="rate_limit"),
                         "take a slot of rate limit 'yahoo'", None, "it stayed exhausted", busy_seconds=busy_seconds)


def test_a_server_answering_only_503_is_given_up_on_even_without_a_timeout(prefect_api: PrefectApiDouble) -> None:
    # Eight 503s take about 3.3 s to ask through (20 ms doubling to 1 s); the bound is 0.3 s.
    prefect_api.answer(INCREMENT, *[BUSY] * 8, _rate_granted("yahoo"))

    began = time.monotonic()
    with pytest.raises(ServerBusyError) as raised:
        _take_yahoo_slot(busy_seconds=0.3)
    took = time.monotonic() - began

    assert isinstance(raised.value, TransientError)
    assert str(raised.value) == ("could not take a slot of rate limit 'yahoo': "
                                 "the Prefect server stayed busy (answered 503) for 0.3 s")
    assert 0.3 <= took < 1.0, took
    assert 4 <= len(prefect_api.asked(INCREMENT)) < 8


def test_a_denial_between_503s_restarts_the_busy_bound(prefect_api: PrefectApiDouble) -> None:
    # Each run of 503s lasts about 0.14 s, under the 0.4 s bound; with the 423's 0.5 s they last about 0.78 s.
    prefect_api.answer(INCREMENT, BUSY, BUSY, BUSY, Answer(423, {"detail": "locked"}, {"Retry-After": "0.5"}),
                       BUSY, BUSY, BUSY, _rate_granted("yahoo"))

    began = time.monotonic()
    granted = _take_yahoo_slot(busy_seconds=0.4).json()
    took = time.monotonic() - began

    assert [limit["name"] for limit in granted] == ["yahoo"]
    assert len(prefect_api.asked(INCREMENT)) == 8
    assert took > 0.4 + 0.2, took  # longer than the bound, all told
