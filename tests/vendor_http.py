"""A real HTTP server on 127.0.0.1 that plays recorded vendor payloads, for source tests.

Routes map a URL path (query ignored unless given) to a queue of responses; the last
response of a queue repeats. A response can cut the connection mid-body.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    """One canned HTTP response."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # send this many body bytes, then drop the connection


@dataclass
class SeenRequest:
    path: str
    query: dict[str, str]
    method: str = "GET"
    body: bytes = b""


class VendorServer:
    """Serves routes until closed; ``url`` is its base, ``requests`` what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._answer("GET", b"")

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self._answer("POST", self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _answer(self, method: str, body: bytes) -> None:
                parts = urlsplit(self.path)
                with server._lock:
                    server.requests.append(SeenRequest(parts.path, dict(parse_qsl(parts.query)), method, body))
                    queue = server.routes.get(parts.path)
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(404, b"not found")
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.cut_after is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if reply.cut_after is not None:
                    self.wfile.write(reply.body[: reply.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply) -> None:
        """Answer GET or POST ``path`` with ``replies`` in order, repeating the last one."""
        with self._lock:
            self.routes[path] = list(replies)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
