"""One Prefect test harness for the whole session, only for the tests that run flows."""

from __future__ import annotations

from typing import Iterator

import pytest
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.flows.prefect_api_double import PrefectApiDouble


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect API and database shared by every flow test (about 10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def prefect_api() -> Iterator[PrefectApiDouble]:
    """The Prefect API double, made the current Prefect API (events recorded, not sent) for the test."""
    double = PrefectApiDouble()
    AssertingEventsClient.reset()
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        with temporary_settings(updates={PREFECT_API_URL: double.url}):
            yield double
    finally:
        EventsWorker.instance().drain()
        EventsWorker.set_client_override(None)
        AssertingEventsClient.reset()
        double.close()
