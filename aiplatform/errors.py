"""Domain errors raised by service functions of every app.

Each carries the HTTP status and error code of the documented JSON error shape,
so the API, the HTML views and the websocket consumers report it the same way.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields
        self.extra = extra or {}


class InvalidInput(ServiceError):
    status = 400
    code = "validation_error"


class Forbidden(ServiceError):
    status = 403
    code = "permission_denied"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class LimitReached(ServiceError):
    """A plan limit (users, creators, storage…) is reached."""

    status = 409
    code = "plan_limit_reached"


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.extra.setdefault("retry_after", retry_after)


class InsufficientCredits(ServiceError):
    """Not enough spendable credits; `extra` carries the balance and the price."""

    status = 402
    code = "insufficient_credits"
