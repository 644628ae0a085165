"""Yahoo's cookie/crumb handshake: the A3 cookie from fc.yahoo.com, then a crumb for chart calls.

Yahoo answers cookie-less or crumb-less chart calls with 401 "Invalid Crumb" or 429. Yahoo
clients (yfinance, yahoo-finance2) first GET fc.yahoo.com, whose answer (usually a 404) sets
the A3 cookie, then GET ``/v1/test/getcrumb`` with that cookie for a crumb, which every
chart call then carries as ``crumb=``. The cookie lives in the fetcher's client, so the
handshake must use the same fetcher as the chart calls.
"""

from __future__ import annotations

from tradeloom.data.sources.transport import Fetcher
from tradeloom.errors import AuthError, PermanentError

CRUMB_PATH = "v1/test/getcrumb"


class YahooCrumb:
    """The crumb of one session: fetched on first use, renewed when Yahoo rejects it."""

    def __init__(self, fetcher: Fetcher, cookie_url: str, crumb_url: str) -> None:
        self._fetcher = fetcher
        self.cookie_url = cookie_url
        self.crumb_url = f"{crumb_url.rstrip('/')}/{CRUMB_PATH}"
        self._crumb: str | None = None

    def current(self) -> str:
        """The crumb, doing the handshake if there is none yet."""
        return self._crumb or self.renew()

    def renew(self) -> str:
        """Do the handshake again: a fresh cookie, then a fresh crumb."""
        self._crumb = None
        try:
            self._fetcher.get(self.cookie_url)
        except PermanentError:
            pass  # fc.yahoo.com answers 404; what matters is the cookie its answer sets
        body = self._fetcher.get(self.crumb_url)
        crumb = body.decode("utf-8", "replace").strip()
        if not crumb or len(crumb) > 64 or any(c.isspace() or c in "<>{}" for c in crumb):
            raise AuthError(f"Yahoo gave no usable crumb at {self.crumb_url} (after the cookie from {self.cookie_url}): "
                            f"{crumb[:80]!r}")
        self._crumb = crumb
        return crumb
