"""One id per request, so a client's error report and the server log line of the
same failure can be matched: a sane incoming `X-Request-ID` is kept (a proxy in
front may set one), otherwise one is generated; it is sent back in the
`X-Request-ID` response header, put in the body of a 500 under /api/
(aiplatform.api.errors.server_error) and stamped on every log record written
while the request runs (RequestIdFilter, `%(request_id)s` in LOGGING's format)."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
NO_REQUEST = "-"
# Letters, digits and a few separators, at most 128 characters: enough for UUIDs and
# the ids load balancers send; anything else (spaces, newlines, markup) is replaced.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def current_request_id() -> str:
    """The id of the request being handled in this context, or "-" outside one."""
    return _current.get()


def _request_id_from(request) -> str:
    incoming = request.META.get(META_KEY, "")
    if _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE so every later middleware, the view and Django's exception
    handling (which logs an uncaught exception) run with the id set."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        request_id = _request_id_from(request)
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response

    async def _acall(self, request):
        request_id = _request_id_from(request)
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = await self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the current request's id, "-" outside a
    request, or one already given with `extra=`); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True
