"""The store-writer slot (a Prefect global concurrency limit): one holder at a time, a bounded wait, a clear error."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client

from tests.flows.prefect_api_double import DECREMENT_WITH_LEASE, INCREMENT_WITH_LEASE, Answer, PrefectApiDouble
from tradeloom.errors import PermanentError
from tradeloom.tasks.limits import SlotTimeoutError, holding, serialised


def _lease_granted(name: str, lease_id: str) -> Answer:
    """Prefect's 200 to increment-with-lease (ConcurrencyLimitWithLeaseResponse) for one-slot limit ``name``."""
    return Answer(200, {"lease_id": lease_id, "limits": [{"id": str(uuid.uuid4()), "name": name, "limit": 1}]})


@pytest.fixture
def limit_name() -> str:
    """A fresh one-slot global concurrency limit on the session's Prefect API."""
    name = f"test-writer-{uuid.uuid4().hex[:8]}"
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit=1)
    return name


def test_two_threads_holding_the_slot_never_overlap(limit_name: str) -> None:
    inside, most_inside, calls = 0, 0, []
    counting = threading.Lock()

    @serialised(limit_name, timeout_seconds=60)
    def write(writer: str, number: int) -> None:
        nonlocal inside, most_inside
        with counting:
            inside += 1
            most_inside = max(most_inside, inside)
        time.sleep(0.05)  # long enough that two unserialised writers would overlap
        with counting:
            inside -= 1
            calls.append((writer, number))

    def writer(name: str) -> None:
        for number in range(4):
            write(name, number)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(writer, ["a", "b"]))

    assert most_inside == 1
    assert sorted(calls) == [(w, n) for w in "ab" for n in range(4)]


def test_a_held_slot_makes_the_next_holder_wait_then_time_out_naming_the_limit(limit_name: str) -> None:
    taken, let_go = threading.Event(), threading.Event()

    def hold() -> None:
        with holding(limit_name, timeout_seconds=10):
            taken.set()
            let_go.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(30)
        ran = []
        began = time.monotonic()
        with pytest.raises(SlotTimeoutError) as raised:
            with holding(limit_name, timeout_seconds=1):
                ran.append(True)
        waited = time.monotonic() - began
    finally:
        let_go.set()
        holder.join(30)

    assert ran == []
    assert 1.0 <= waited < 10
    assert str(raised.value) == (f"could not take the slot of global concurrency limit {limit_name!r} "
                                 "within 1 s: another holder kept it")
    with holding(limit_name, timeout_seconds=5):  # released by the holder: free again
        ran.append(True)
    assert ran == [True]


def test_a_waiting_holder_enters_after_the_first_leaves(limit_name: str) -> None:
    events: list[str] = []
    taken = threading.Event()

    def first() -> None:
        with holding(limit_name, timeout_seconds=10):
            taken.set()
            time.sleep(0.3)
            events.append("first leaves")

    holder = threading.Thread(target=first)
    holder.start()
    assert taken.wait(30)
    with holding(limit_name, timeout_seconds=30):
        events.append("second enters")
    holder.join(30)

    assert events == ["first leaves", "second enters"]


def test_a_missing_limit_is_an_error_not_a_free_pass() -> None:
    name = f"test-missing-{uuid.uuid4().hex[:8]}"
    ran = []
    with pytest.raises(PermanentError, match=f"global concurrency limit '{name}' does not exist on the Prefect API"):
        with holding(name, timeout_seconds=5):
            ran.append(True)
    assert ran == []


def test_taking_the_slot_right_after_task_runs_does_not_wait_for_the_clients_503_backoff(limit_name: str) -> None:
    # The SQLite-backed server answers the acquisition 503 ("database is locked") while it records
    # the task runs just finished; Prefect's client would sleep ~2 s before asking again, each time.
    @task(cache_policy=NO_CACHE)
    def work(number: int) -> int:
        return number

    @task(cache_policy=NO_CACHE)
    def write(number: int) -> float:
        began = time.monotonic()
        with holding(limit_name, timeout_seconds=30):
            return time.monotonic() - began

    @flow
    def writes_after_work() -> list[float]:
        waits = []
        for number in range(6):
            work.submit(number).result()
            waits.append(write(number))
        return waits

    waits = writes_after_work()
    assert len(waits) == 6 and sum(waits) < 4.0, waits


def test_a_slot_answered_503_twice_is_taken_on_the_third_ask_without_the_clients_backoff(
        prefect_api: PrefectApiDouble) -> None:
    lease_id = str(uuid.uuid4())
    prefect_api.answer(INCREMENT_WITH_LEASE, Answer(503, {"detail": "database is locked"}),
                       Answer(503, {"detail": "database is locked"}), _lease_granted("writer", lease_id))
    prefect_api.answer(DECREMENT_WITH_LEASE, Answer(204))
    ran = []

    began = time.monotonic()
    with holding("writer", timeout_seconds=30):
        ran.append(len(prefect_api.asked(INCREMENT_WITH_LEASE)))
    took = time.monotonic() - began

    # Prefect's client alone would sleep about 2 s, then 4 s, before asking again.
    assert took < 1.0, took
    assert ran == [3]
    assert [body["names"] for body in prefect_api.asked(INCREMENT_WITH_LEASE)] == [["writer"]] * 3
    assert {(body["mode"], body["slots"], body["lease_duration"]) for body in prefect_api.asked(INCREMENT_WITH_LEASE)} == {
        ("concurrency", 1, 60.0)}
    assert prefect_api.asked(DECREMENT_WITH_LEASE) == [{"lease_id": lease_id}]


def test_a_taken_slot_is_asked_for_again_after_the_servers_retry_after(prefect_api: PrefectApiDouble) -> None:
    prefect_api.answer(INCREMENT_WITH_LEASE, Answer(423, {"detail": "Concurrency limit is locked"},
                                                    {"Retry-After": "0.2"}), _lease_granted("writer", str(uuid.uuid4())))
    prefect_api.answer(DECREMENT_WITH_LEASE, Answer(204))

    began = time.monotonic()
    with holding("writer", timeout_seconds=30):
        took = time.monotonic() - began

    assert 0.2 <= took < 1.0, took
    assert len(prefect_api.asked(INCREMENT_WITH_LEASE)) == 2


def test_a_release_answered_503_twice_is_asked_again_without_the_clients_backoff(
        prefect_api: PrefectApiDouble) -> None:
    lease_id = str(uuid.uuid4())
    prefect_api.answer(INCREMENT_WITH_LEASE, _lease_granted("writer", lease_id))
    prefect_api.answer(DECREMENT_WITH_LEASE, Answer(503, {"detail": "database is locked"}),
                       Answer(503, {"detail": "database is locked"}), Answer(204))

    began = time.monotonic()
    with holding("writer", timeout_seconds=30):
        pass
    took = time.monotonic() - began

    assert took < 1.0, took
    assert prefect_api.asked(DECREMENT_WITH_LEASE) == [{"lease_id": lease_id}] * 3
    assert prefect_api.events() == [("prefect.concurrency-limit.acquired", "writer"),
                                    ("prefect.concurrency-limit.released", "writer")]


def test_a_failed_release_does_not_replace_the_blocks_own_error(
        prefect_api: PrefectApiDouble, caplog: pytest.LogCaptureFixture) -> None:
    lease_id = str(uuid.uuid4())
    prefect_api.answer(INCREMENT_WITH_LEASE, _lease_granted("writer", lease_id))
    prefect_api.answer(DECREMENT_WITH_LEASE, Answer(500, {"detail": "Internal Server Error"}))

    with caplog.at_level(logging.WARNING, logger="tradeloom.tasks.limits"):
        with pytest.raises(RuntimeError) as raised:
            with holding("writer", timeout_seconds=30):
                raise RuntimeError("the write failed")

    assert str(raised.value) == "the write failed"
    assert prefect_api.asked(DECREMENT_WITH_LEASE) == [{"lease_id": lease_id}]
    assert [record.getMessage() for record in caplog.records if record.name == "tradeloom.tasks.limits"] == [
        f"could not release concurrency lease {lease_id} of 'writer'; it expires within 60 s"]
    assert prefect_api.events() == [("prefect.concurrency-limit.acquired", "writer")]  # nothing was released


def test_a_failed_release_after_a_block_that_succeeded_is_logged_and_the_result_stands(
        prefect_api: PrefectApiDouble, caplog: pytest.LogCaptureFixture) -> None:
    lease_id = str(uuid.uuid4())
    prefect_api.answer(INCREMENT_WITH_LEASE, _lease_granted("writer", lease_id))
    prefect_api.answer(DECREMENT_WITH_LEASE, Answer(500, {"detail": "Internal Server Error"}))

    @serialised("writer", timeout_seconds=30)
    def write() -> str:
        return "stored"

    with caplog.at_level(logging.WARNING, logger="tradeloom.tasks.limits"):
        assert write() == "stored"  # the write is done; the lease frees itself within a minute

    assert [record.getMessage() for record in caplog.records if record.name == "tradeloom.tasks.limits"] == [
        f"could not release concurrency lease {lease_id} of 'writer'; it expires within 60 s"]
    assert prefect_api.events() == [("prefect.concurrency-limit.acquired", "writer")]
