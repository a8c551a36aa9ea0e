"""One error type for every mockup failure a caller can cause; views turn it into a response."""

from __future__ import annotations


class MockupError(Exception):
    """`status` is the HTTP status to answer with and `code` a stable machine-readable name."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        code: str = "invalid_parameter",
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after  # seconds, for a 429
