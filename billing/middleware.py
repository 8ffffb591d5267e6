"""Seed 003 `api_usage_logs`: one row per API request made for an account."""

from __future__ import annotations

import time

from django.urls import Resolver404, resolve

from billing.services.usage import api_request_log

API_PREFIX = "/api/v1/"


class ApiUsageLogMiddleware:
    """Runs inside TenantMiddleware's transaction, so the row is written in the
    request's tenant context (and rolled back with a failed request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        started = time.monotonic()
        response = self.get_response(request)
        account = getattr(request, "account", None)
        if account is not None and response.status_code < 500:
            try:
                name = resolve(request.path_info).url_name or "api"
            except Resolver404:
                name = "unknown"
            api_request_log(
                account=account,
                user=getattr(request, "user", None),
                endpoint=request.path,
                method=request.method,
                status_code=response.status_code,
                response_time_ms=int((time.monotonic() - started) * 1000),
                service_name=name,
            )
        return response
