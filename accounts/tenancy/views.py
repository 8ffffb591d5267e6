"""Base for HTML views over tenant data (the counterpart of drf.TenantViewSet).

A domain error (aiplatform.errors.ServiceError) that a view lets escape is answered
the way the API's handler answers it in JSON: a NotFound (404) is the 404 page, a
Forbidden (403) the 403 page, and any other (400 invalid input, 402 credits, 409
conflict, 429 rate limited…) a flash message with the same text on the page the
person came from (`error_url()`), so views call services without a try/except.
`service_errors_as_pages` does the same for a function view.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.models import Role
from aiplatform.errors import ServiceError
from aiplatform.flash import service_error_text


def safe_referer(request) -> str:
    """Where the request came from when that is this site; else the page itself for
    a form post, and the dashboard for a page that failed to show (no redirect loop)."""
    referer = request.META.get("HTTP_REFERER", "")
    same_page = referer.endswith(request.get_full_path())
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
        if not (same_page and request.method in ("GET", "HEAD")):
            return referer
    return request.get_full_path() if request.method not in ("GET", "HEAD") else reverse("dashboard")


def service_error_response(request, exc: ServiceError, error_url: str | None = None):
    """404 and 403 as the error pages, anything else as a flash message and a redirect."""
    if exc.status == 404:
        raise Http404(exc.message)
    if exc.status == 403:
        raise PermissionDenied(exc.message)
    messages.error(request, service_error_text(exc))
    return HttpResponseRedirect(error_url or safe_referer(request))


def service_errors_as_pages(view):
    """The TenantViewMixin mapping for a function view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ServiceError as exc:
            return service_error_response(request, exc)

    return wrapper


class TenantViewMixin(LoginRequiredMixin):
    required_role: Role = Role.VIEWER

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.account is None:
            messages.info(request, _("You are not a member of any account yet."))
            return redirect("dashboard")
        if not request.account_role.at_least(self.required_role):
            raise PermissionDenied(_("Your role in this account does not allow this."))
        try:
            return super().dispatch(request, *args, **kwargs)
        except ServiceError as exc:
            return service_error_response(request, exc, self.error_url())

    def error_url(self) -> str | None:
        """Where a refused action sends the person back to (None: the page they came from)."""
        return None

    @property
    def account(self):
        return self.request.account

    @property
    def membership(self):
        return self.request.membership

    def scoped(self, model: type[Model]) -> QuerySet:
        return model.objects.filter(account=self.request.account)

    def get_scoped_object(self, model: type[Model], **lookup) -> Model:
        """A foreign or missing id is a 404, never a 403."""
        return get_object_or_404(self.scoped(model), **lookup)
