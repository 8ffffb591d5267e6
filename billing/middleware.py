"""Seed 003 `api_usage_logs`: one row per API request made for an account, 5xx
included, with the tokens and credits of the AI calls it made and its error."""

from __future__ import annotations

import json
import logging
import time

from django.urls import Resolver404, resolve

from accounts.tenancy.context import account_context
from billing.services.usage import api_request_log, request_meter_start

API_PREFIX = "/api/v1/"

log = logging.getLogger("billing.api_usage")


def _error_of(response) -> str:
    """The documented error's code and message ({"error": {"code", "message"}})."""
    if response.status_code < 400 or getattr(response, "streaming", False):
        return ""
    if "json" not in response.get("Content-Type", ""):
        return f"HTTP {response.status_code}"
    try:
        error = json.loads(response.content).get("error") or {}
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"
    code, message = error.get("code", ""), error.get("message", "")
    return f"{code}: {message}" if code else message or f"HTTP {response.status_code}"


def _log(request, response, started: float, meter, *, rolled_back: bool) -> None:
    try:
        name = resolve(request.path_info).url_name or "api"
    except Resolver404:
        name = "unknown"
    api_request_log(
        account=request.account, user=getattr(request, "user", None), endpoint=request.path,
        method=request.method, status_code=response.status_code,
        response_time_ms=int((time.monotonic() - started) * 1000), service_name=name, tokens=meter.tokens,
        # A 5xx rolled its transaction back: nothing it charged stays charged.
        credits=0 if rolled_back else meter.credits, error=_error_of(response),
    )  # fmt: skip


class ApiUsageLogMiddleware:
    """Inside TenantMiddleware's transaction: a request answered below 500 is logged
    in the request's own transaction and tenant context (one statement)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        started, meter = time.monotonic(), request_meter_start()
        request.api_usage_meter = (started, meter)
        response = self.get_response(request)
        if getattr(request, "account", None) is not None and response.status_code < 500:
            _log(request, response, started, meter, rolled_back=False)
        return response


class ApiErrorLogMiddleware:
    """Outside TenantMiddleware: a 5xx rolls the request's transaction back, so its
    log row is written here afterwards, in a transaction of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        timing = getattr(request, "api_usage_meter", None)
        if timing is not None and response.status_code >= 500 and getattr(request, "account", None) is not None:
            try:
                with account_context(request.account.id):  # a transaction of its own
                    _log(request, response, *timing, rolled_back=True)
            except Exception:  # the answer stands; a lost log row is reported, not raised
                log.exception("could not log the failed API request %s %s", request.method, request.path)
        return response
