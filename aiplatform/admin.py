"""The operator back office, with its login protected against brute force."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aiplatform import ratelimit
from aiplatform.labels import translate_labels


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the application writes and operators only look at (ledgers, audit, events)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class AdminSite(admin.AdminSite):
    site_header = gettext_lazy("aiplatform operations")
    site_title = gettext_lazy("aiplatform admin")
    index_title = gettext_lazy("Back office")

    def login(self, request, extra_context=None):
        key = f"admin-login:{client_ip(request)}"
        limit = settings.ADMIN_LOGIN_RATE_LIMIT
        if request.method == "POST":
            state = ratelimit.peek(key, limit=limit, window=60)
            if not state.allowed:
                response = HttpResponse(
                    _("Too many failed sign-in attempts. Try again in %(seconds)s seconds.")
                    % {"seconds": state.retry_after},
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

    def ready(self) -> None:
        translate_labels()  # every model is loaded by now: their labels in Korean, no migrations
        super().ready()
