"""Operators in the Django admin work across tenants, visibly and only there."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.test import Client

from accounts.models import Membership, User
from accounts.tenancy.context import rls_bypass
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True)


def test_operator_sees_every_tenants_rows_in_the_admin(tenants, operator):
    client = Client()
    client.force_login(operator)
    response = client.get("/admin/accounts/membership/")
    body = response.content.decode()
    assert response.status_code == 200
    assert all(e in body for e in ("alice@example.com", "bob@example.com", "carol@example.com"))


def test_operator_change_in_the_admin_is_written_and_logged(tenants, operator):
    client = Client()
    client.force_login(operator)
    # when the operator makes bob an admin of account A
    response = client.post(
        f"/admin/accounts/membership/{tenants.bob_membership.pk}/change/",
        {"user": tenants.bob.pk, "account": tenants.a.pk, "role": "admin"},
    )
    # then the change is saved across the tenant wall and recorded
    assert response.status_code == 302
    with rls_bypass("test: read back"):
        assert Membership.objects.get(pk=tenants.bob_membership.pk).role == "admin"
    entry = LogEntry.objects.get(object_id=str(tenants.bob_membership.pk))
    assert (entry.user_id, entry.action_flag) == (operator.pk, CHANGE)


def test_outside_the_admin_an_operator_is_an_ordinary_tenant_user(tenants, operator):
    client = Client()
    client.force_login(operator)
    # the operator belongs to no account, so tenant API data stays hidden
    assert client.get("/api/v1/members/").status_code == 403
    assert client.get(f"/api/v1/members/{tenants.bob_membership.pk}/").status_code in (403, 404)
