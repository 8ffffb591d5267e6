"""The operator back office, with its login protected against brute force."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpResponse

from aiplatform import ratelimit


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class AdminSite(admin.AdminSite):
    site_header = "aiplatform operations"
    site_title = "aiplatform admin"
    index_title = "Back office"

    def login(self, request, extra_context=None):
        key = f"admin-login:{client_ip(request)}"
        limit = settings.ADMIN_LOGIN_RATE_LIMIT
        if request.method == "POST":
            state = ratelimit.peek(key, limit=limit, window=60)
            if not state.allowed:
                response = HttpResponse(
                    f"Too many failed sign-in attempts. Try again in {state.retry_after} seconds.",
                    status=429,
                    content_type="text/plain",
                )
                response["Retry-After"] = str(state.retry_after)
                return response
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code != 302:
            ratelimit.hit(key, limit=limit, window=60)
        return response


class AdminConfig(DjangoAdminConfig):
    default_site = "aiplatform.admin.AdminSite"
