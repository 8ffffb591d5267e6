"""The hot list endpoints cost the same number of queries for 3 rows as for 30
(no N+1), pinned at their current count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context
from tests.accounts.factories import ApiKeyFactory, MembershipFactory

pytestmark = pytest.mark.django_db

# User (session in Redis), savepoint, user context, active membership, tenant
# context, COUNT, the page (with its users joined), release.
MEMBERS_QUERIES = 9  # includes the seed 003 api_usage_logs row
API_KEYS_QUERIES = 9  # includes the seed 003 api_usage_logs row


def _queries(api_client, url: str, expected_rows: int) -> int:
    api_client.get(url)  # warm up: the first request of a user also records its last activity
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(url)
    assert response.status_code == 200
    assert response.json()["count"] == expected_rows
    return len(captured)


@pytest.mark.parametrize("rows", [3, 30])
def test_member_list_query_count_does_not_grow_with_rows(api_client, tenants, rows):
    # given A with `rows` members (alice and bob included)
    for _ in range(rows - 2):
        MembershipFactory(account=tenants.a, role=Role.VIEWER)
    api_client.force_login(tenants.alice)

    # when alice lists members
    count = _queries(api_client, "/api/v1/members/", rows)

    # then the query count is the pinned constant
    assert count == MEMBERS_QUERIES


@pytest.mark.parametrize("rows", [3, 30])
def test_api_key_list_query_count_does_not_grow_with_rows(api_client, tenants, rows):
    # given A with `rows` keys, made by different admins
    for _ in range(rows):
        creator = MembershipFactory(account=tenants.a, role=Role.ADMIN).user
        ApiKeyFactory(account=tenants.a, created_by=creator)
    api_client.force_login(tenants.alice)

    # when alice lists the keys
    count = _queries(api_client, "/api/v1/api-keys/", rows)

    # then the query count is the pinned constant
    assert count == API_KEYS_QUERIES


def test_member_list_by_api_key_query_count_does_not_grow_with_rows(api_client, tenants):
    # given a key of alice's for A, whose list of A's 2 members was measured, then 28 more joined
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="ci", role=Role.VIEWER)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    two = _queries(api_client, "/api/v1/members/", 2)
    for _ in range(28):
        MembershipFactory(account=tenants.a, role=Role.VIEWER)

    # when the key lists members again
    thirty = _queries(api_client, "/api/v1/members/", 30)

    # then the count did not move
    assert thirty == two
