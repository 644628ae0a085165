"""A Prefect API double: a real HTTP server on 127.0.0.1 answering the concurrency-limit endpoints as told."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker

INCREMENT_WITH_LEASE = "/v2/concurrency_limits/increment-with-lease"
DECREMENT_WITH_LEASE = "/v2/concurrency_limits/decrement-with-lease"


@dataclass
class Answer:
    """One canned response of the Prefect API double: a status, a JSON body, headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class PrefectApiDouble:
    """A real HTTP server on 127.0.0.1 playing the Prefect API's concurrency-limit endpoints.

    ``answer`` queues the responses to POST ``path`` (relative to ``url``); the last one repeats.
    Anything not queued answers 404. ``asked`` gives the JSON bodies POSTed to a path, in order.
    """

    def __init__(self) -> None:
        self._answers: dict[str, list[Answer]] = {}
        self._asked: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                path = self.path.removeprefix("/api")
                with double._lock:
                    double._asked.append((path, body))
                    queue = double._answers.get(path)
                    answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Answer(404, {"detail": "Not Found"})
                payload = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815 (http.server's name; e.g. the events socket, answered 404)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api"

    def answer(self, path: str, *answers: Answer) -> None:
        """Answer POST ``path`` with ``answers`` in order, repeating the last one."""
        with self._lock:
            self._answers[path] = list(answers)

    def asked(self, path: str) -> list[Any]:
        """The JSON bodies POSTed to ``path`` so far."""
        with self._lock:
            return [body for asked_path, body in self._asked if asked_path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def events() -> list[tuple[str, str]]:
        """The (event, limit name) pairs emitted so far (Prefect's recording events client)."""
        EventsWorker.instance().drain()
        return [(event.event, event.resource["prefect.resource.name"])
                for client in AssertingEventsClient.all for event in client.events]
