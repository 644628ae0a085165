"""A Prefect API double: the vendor test server on 127.0.0.1 answering the concurrency-limit endpoints as told."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker

from tests.vendor_http import Reply, VendorServer

INCREMENT_WITH_LEASE = "/v2/concurrency_limits/increment-with-lease"
DECREMENT_WITH_LEASE = "/v2/concurrency_limits/decrement-with-lease"


@dataclass
class Answer:
    """One canned response of the Prefect API double: a status, a JSON body, headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def reply(self) -> Reply:
        """This answer as the vendor server's reply: the body as JSON."""
        if self.body is None:
            return Reply(self.status, b"", self.headers)
        return Reply(self.status, json.dumps(self.body).encode(), {"Content-Type": "application/json", **self.headers})


class PrefectApiDouble:
    """The vendor test server (a real HTTP server on 127.0.0.1) playing the Prefect API's concurrency-limit endpoints.

    ``answer`` queues the responses to POST ``path`` (relative to ``url``); the last one repeats.
    Anything not queued answers 404. ``asked`` gives the JSON bodies POSTed to a path, in order.
    """

    def __init__(self) -> None:
        self._server = VendorServer()

    @property
    def url(self) -> str:
        return f"{self._server.url}/api"

    def answer(self, path: str, *answers: Answer) -> None:
        """Answer POST ``path`` with ``answers`` in order, repeating the last one."""
        self._server.route(f"/api{path}", *(answer.reply() for answer in answers))

    def asked(self, path: str) -> list[Any]:
        """The JSON bodies POSTed to ``path`` so far."""
        return [json.loads(seen.body or b"null") for seen in list(self._server.requests)
                if seen.method == "POST" and seen.path == f"/api{path}"]

    def close(self) -> None:
        self._server.close()

    @staticmethod
    def events() -> list[tuple[str, str]]:
        """The (event, limit name) pairs emitted so far (Prefect's recording events client)."""
        EventsWorker.instance().drain()
        return [(event.event, event.resource["prefect.resource.name"])
                for client in AssertingEventsClient.all for event in client.events]
