"""Every API error answers {"error": {"code", "message", "fields"?}} with the
right status (ARCHITECTURE "Contracts"): 400, 401, 403, 404, 405, 409, 429."""

from __future__ import annotations

import pytest
from django.urls import path
from rest_framework.views import APIView

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.errors import RateLimited
from aiplatform.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db


class _RateLimitedView(APIView):
    """Stands for any endpoint whose service refuses with RateLimited."""

    permission_classes: list = []

    def get(self, request):
        raise RateLimited("Too many requests. Try again in 30 seconds.", retry_after=30)


urlpatterns = [path("api/v1/_test/rate-limited/", _RateLimitedView.as_view()), *project_urlpatterns]


def _roles(tenants) -> dict[str, str]:
    with account_context(tenants.a.id):
        return dict(Membership.objects.filter(account=tenants.a).values_list("user__email", "role"))


def test_400_validation_names_each_invalid_field(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she sends an invalid invitation
    response = api_client.post("/api/v1/invitations/", {"email": "nope", "role": "king"}, format="json")

    # then it is 400 with one message per field
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"email": ["Enter a valid email address."], "role": ['"king" is not a valid choice.']},
        }
    }


def test_400_malformed_json_has_no_fields(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she sends a body that is not JSON
    response = api_client.generic(
        "PATCH", f"/api/v1/members/{tenants.bob_membership.pk}/", "{role:", content_type="application/json"
    )

    # then it is 400 without fields and bob is unchanged
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "parse_error"
    assert body["error"]["message"].startswith("JSON parse error")
    assert "fields" not in body["error"]
    assert _roles(tenants)["bob@example.com"] == "member"


def test_401_without_credentials(api_client, tenants):
    # given nobody signed in

    # when the member list is read
    response = api_client.get("/api/v1/members/")

    # then it is 401 and says how to authenticate
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided."}
    }


def test_403_when_the_role_does_not_allow_it(api_client, tenants):
    # given bob, a member of A
    api_client.force_login(tenants.bob)

    # when he lists API keys (admins only)
    response = api_client.get("/api/v1/api-keys/")

    # then it is 403
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "permission_denied", "message": "Your role in this account does not allow this."}
    }


def test_403_without_an_account(api_client, db):
    # given a user who belongs to no account
    from tests.accounts.factories import UserFactory

    api_client.force_login(UserFactory(email="loner@example.com"))

    # when they list members
    response = api_client.get("/api/v1/members/")

    # then it is 403 and says what to do
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "You have no active account. Create one or accept an invitation.",
        }
    }


def test_404_for_another_accounts_object(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she reads carol's membership of B
    response = api_client.get(f"/api/v1/members/{tenants.carol_membership.pk}/")

    # then it is 404 without a hint that it exists
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_404_for_an_unknown_api_route_is_json_too(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she calls a route that does not exist
    response = api_client.get("/api/v1/no-such-thing/")

    # then the program still gets the JSON error shape
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_405_for_an_unsupported_method(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she PUTs to /me
    response = api_client.put("/api/v1/me/", {"full_name": "x"}, format="json")

    # then it is 405 and lists what is allowed
    assert response.status_code == 405
    assert response.json() == {"error": {"code": "method_not_allowed", "message": 'Method "PUT" not allowed.'}}
    assert "PATCH" in response["Allow"]


def test_409_conflict_carries_its_specific_code(api_client, tenants):
    # given alice, the only owner of A
    api_client.force_login(tenants.alice)

    # when she demotes herself
    response = api_client.patch(f"/api/v1/members/{tenants.alice_membership.pk}/", {"role": "member"}, format="json")

    # then it is 409 with the conflict's own code, and nothing changed
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "last_owner",
            "message": "An account needs at least one owner. Make someone else an owner first.",
        }
    }
    assert _roles(tenants)["alice@example.com"] == "owner"


@pytest.mark.urls(__name__)
def test_429_carries_retry_after_in_header_and_body(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when an endpoint refuses her for going too fast
    response = api_client.get("/api/v1/_test/rate-limited/")

    # then it is 429 with Retry-After
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "error": {"code": "rate_limited", "message": "Too many requests. Try again in 30 seconds.", "retry_after": 30}
    }
