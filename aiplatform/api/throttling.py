"""One request budget for the whole API, counted by the shared sliding-window limiter
(aiplatform.ratelimit, Redis): `API_REQUESTS_PER_MINUTE` a minute per API key, or per
signed-in user for session requests; past it DRF's Throttled, which the error handler
answers as a 429 `rate_limited` with `Retry-After` (0 turns the budget off)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from aiplatform import ratelimit

WINDOW = 60


class ApiRequestThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        self.retry_after = None
        limit = settings.API_REQUESTS_PER_MINUTE
        if not limit:
            return True
        api_key = getattr(request._request, "api_key", None)
        if api_key is not None:
            key = f"api:key:{api_key.pk}"
        elif request.user and request.user.is_authenticated:
            key = f"api:user:{request.user.pk}"
        else:
            # Anonymous requests are refused (401) by the permission; the few open routes
            # (the schema) are limited per client address.
            key = f"api:ip:{self.get_ident(request)}"
        result = ratelimit.hit(key, limit=limit, window=WINDOW)
        if not result.allowed:
            self.retry_after = result.retry_after
        return result.allowed

    def wait(self):
        return self.retry_after
