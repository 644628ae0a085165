"""One small error hierarchy that every vendor and venue error is translated into.

Only ``TransientError`` (and its subclass ``RateLimitedError``) is worth retrying;
everything else is permanent and must not be retried.
"""

from __future__ import annotations


class TradeloomError(Exception):
    """Base of every error tradeloom raises on purpose."""


class TransientError(TradeloomError):
    """A failure that may succeed if tried again (503, timeout, connection cut, empty body)."""


class RateLimitedError(TransientError):
    """The vendor asked us to slow down; retry later, after ``retry_after`` seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(TradeloomError):
    """A failure that will not go away by retrying."""


class RejectedError(PermanentError):
    """The vendor or venue refused the request (bad parameters, unknown symbol, premium endpoint)."""


class InsufficientFundsError(RejectedError):
    """The venue refused an order for lack of balance or margin."""


class AuthError(PermanentError):
    """Credentials are missing, invalid or not allowed to do this."""


class NotFoundError(PermanentError):
    """The resource does not exist at the vendor (HTTP 404)."""


class CorruptPayloadError(PermanentError):
    """A payload arrived but is not what the format promises (an HTML page instead of LZMA, bad JSON)."""

    def __init__(self, message: str, payload: bytes | None = None) -> None:
        super().__init__(message)
        self.payload = payload


def is_retryable(error: BaseException) -> bool:
    """True when ``error`` is worth another attempt."""
    return isinstance(error, TransientError)
