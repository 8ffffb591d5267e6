"""One path for pages and one role check (issue 18): a domain error escaping a
TenantViewMixin view is answered as the API answers it (404 page, 403 page, or a
flash message where the person came from), and `require_role` needs an explicit
actor: a system actor passes, None is a programming error, never a silent skip."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.views import View

from accounts.actors import SystemActor, require_role, system_actor
from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin, service_errors_as_pages
from aiplatform.errors import Conflict, Forbidden, InsufficientCredits, NotFound

pytestmark = pytest.mark.django_db


class _Raising(TenantViewMixin, View):
    error = None

    def get(self, request):
        raise self.error

    def post(self, request):
        raise self.error


def _request(tenants, method="post", referer=None, path="/somewhere/"):
    request = getattr(RequestFactory(), method)(path, HTTP_REFERER=referer or "")
    request.user = tenants.alice
    request.account = tenants.a
    request.membership = tenants.alice_membership
    request.account_role = tenants.alice_membership.role_enum
    request.session = SessionBase()
    request._messages = FallbackStorage(request)
    return request


def test_not_found_is_the_404_page(tenants):
    with pytest.raises(Http404, match="There is no such thing."):
        _Raising.as_view(error=NotFound("There is no such thing."))(_request(tenants))


def test_forbidden_is_the_403_page(tenants):
    with pytest.raises(PermissionDenied, match="Only owners can do this."):
        _Raising.as_view(error=Forbidden("Only owners can do this."))(_request(tenants))


@pytest.mark.parametrize("error", [Conflict("Already done."), InsufficientCredits("Not enough credits.")])
def test_other_errors_are_a_flash_message_back_where_the_person_came_from(tenants, error):
    request = _request(tenants, referer="http://testserver/from/here/")
    response = _Raising.as_view(error=error)(request)
    assert (response.status_code, response["Location"]) == (302, "http://testserver/from/here/")
    assert [str(m) for m in get_messages(request)] == [error.message]


def test_a_foreign_referer_is_not_followed(tenants):
    request = _request(tenants, referer="https://evil.example/")
    response = _Raising.as_view(error=Conflict("No."))(request)
    assert response["Location"] == "/somewhere/"


def test_a_page_that_fails_to_show_goes_to_the_dashboard_not_in_a_loop(tenants):
    request = _request(tenants, method="get", referer="http://testserver/somewhere/")
    response = _Raising.as_view(error=Conflict("No."))(request)
    assert response["Location"] == reverse("dashboard")


def test_the_view_chooses_where_a_refusal_goes(tenants):
    class Back(_Raising):
        def error_url(self):
            return "/back/"

    response = Back.as_view(error=Conflict("No."))(_request(tenants, referer="http://testserver/x/"))
    assert response["Location"] == "/back/"


def test_a_function_view_gets_the_same_mapping(tenants):
    @service_errors_as_pages
    def view(request):
        raise Conflict("Busy.")

    @service_errors_as_pages
    def missing(request):
        raise NotFound("Gone.")

    request = _request(tenants, referer="http://testserver/list/")
    assert view(request)["Location"] == "http://testserver/list/"
    with pytest.raises(Http404):
        missing(request)
    assert isinstance(service_errors_as_pages(lambda r: HttpResponse("ok"))(request), HttpResponse)


def test_require_role_refuses_a_lower_role_with_the_message(tenants):
    with pytest.raises(Forbidden, match="Only admins and owners can change cost controls."):
        require_role(tenants.bob_membership, Role.ADMIN, what="change cost controls")
    require_role(tenants.alice_membership, Role.OWNER)  # the owner may


def test_require_role_lets_an_explicit_system_actor_through(tenants):
    actor = system_actor("nightly sweep")
    assert isinstance(actor, SystemActor) and actor.user is None
    require_role(actor, Role.OWNER)


def test_require_role_without_an_actor_is_a_programming_error_not_a_skip():
    with pytest.raises(TypeError, match="system_actor"):
        require_role(None, Role.VIEWER)  # type: ignore[arg-type]


def test_a_system_actor_says_why():
    with pytest.raises(ValueError):
        system_actor("  ")


def test_the_automatic_shut_off_acts_as_the_system(tenants, settings):
    from billing.services.controls import shutoff_engage  # noqa: PLC0415

    with pytest.raises(TypeError):
        shutoff_engage(account=tenants.a, actor=None, reason="x")  # type: ignore[arg-type]
    control = shutoff_engage(account=tenants.a, actor=system_actor("cost control"), reason="daily limit reached")
    assert control.shutoff_active and control.shutoff_by is None
