"""Which try of a task is its last: the Dukascopy fetch accepts empty open-market periods only then."""

from __future__ import annotations

from prefect import flow, task

from tradeloom.errors import TransientError
from tradeloom.tasks.market_data import is_last_attempt


def test_only_the_last_try_of_a_task_with_retries_is_its_last_attempt() -> None:
    seen: list[bool] = []

    @task(retries=2, retry_delay_seconds=0)
    def flaky() -> str:
        seen.append(is_last_attempt())
        if len(seen) < 3:
            raise TransientError("not yet")
        return "done"

    @flow
    def tries() -> str:
        return flaky()

    assert tries() == "done"
    assert seen == [False, False, True]


def test_a_task_without_retries_is_on_its_last_attempt_and_plain_code_is_not() -> None:
    @task
    def once() -> bool:
        return is_last_attempt()

    @flow
    def single() -> bool:
        return once()

    assert single() is True
    assert is_last_attempt() is False
