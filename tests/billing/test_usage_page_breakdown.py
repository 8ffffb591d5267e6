"""The usage page shows what the usage tables hold: storage used against the plan's
limit, per-member usage this month (table and chart) and per-provider daily cost
(seed 002 `user_usage`, `ai_cost_tracking`); the admin lists both tables."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from accounts.tenancy.context import account_context
from billing.services.usage import usage_record
from tests.accounts.factories import UserFactory
from tests.canvas.factories import ContentPieceFactory

pytestmark = pytest.mark.django_db

GB = 1024**3


def _html(client) -> str:
    response = client.get("/billing/usage/")
    assert response.status_code == 200
    return response.content.decode()


def _table(html: str, testid: str) -> list[list[str]]:
    body = re.search(rf'<table [^>]*data-testid="{testid}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_members_and_providers_are_shown_from_the_usage_tables(client, tenants):
    # given A's usage this month: alice 2 calls on "openai", bob 1 on "anthropic"; B's carol elsewhere
    User.objects.filter(pk=tenants.bob.pk).update(username="bob-the-builder")
    for user, provider, credits, cost in [
        (tenants.alice, "openai", "2.5", "0.010000"), (tenants.alice, "openai", "1.5", "0.005000"),
        (tenants.bob, "anthropic", "3", "0.020000"),
    ]:  # fmt: skip
        usage_record(account=tenants.a, user=user, feature="chat", model="m", provider=provider, tokens_in=10,
                     tokens_out=5, credits=credits, provider_cost=cost, generation=True)  # fmt: skip
    usage_record(account=tenants.b, user=tenants.carol, feature="chat", model="m", provider="secret-provider-of-b",
                 credits="9")  # fmt: skip

    # when alice opens the usage page
    client.force_login(tenants.alice)
    html = _html(client)

    # then each member's month is a row (highest credits first, the username when there is one)
    assert _table(html, "member-usage") == [
        ["alice@example.com", "4", "2", "30", "0", "0", "0\xa0bytes", "0.015000"],
        ["bob-the-builder", "3", "1", "15", "0", "0", "0\xa0bytes", "0.020000"],
    ]
    assert 'id="usage-members"' in html
    # and each provider's day is a row
    assert [row[1:] for row in _table(html, "provider-costs")] == [
        ["anthropic", "0.020000", "1", "15"],
        ["openai", "0.015000", "2", "30"],
    ]
    assert "secret-provider-of-b" not in html and "carol" not in html


def test_storage_used_is_measured_and_shown_against_the_limit(client, tenants):
    # given A stores 1.5 GB of uploads (B stores more)
    with account_context(tenants.a.id):
        ContentPieceFactory(account=tenants.a, project__account=tenants.a, original_file_path="a/one.mp4",
                            file_size_bytes=GB + GB // 2)  # fmt: skip
    with account_context(tenants.b.id):
        ContentPieceFactory(account=tenants.b, project__account=tenants.b, original_file_path="b/big.mp4",
                            file_size_bytes=4 * GB)  # fmt: skip

    # when alice opens the usage page and reads the limits through the API
    client.force_login(tenants.alice)
    html = _html(client)
    limits = {row["name"]: row for row in client.get("/api/v1/plan/").json()["limits"]}

    # then the storage limit shows 1.5 of 5 GB
    storage = re.search(r'<li data-limit="storage_gb">.*?</li>', html, re.S).group(0)
    assert '<span class="limit-figure">1.5 of 5</span>' in storage
    # and the API's limits read the same figure
    assert (limits["storage_gb"]["used"], limits["storage_gb"]["limit"]) == (1.5, 5)


def test_the_admin_lists_member_months_and_provider_days(tenants):
    usage_record(account=tenants.a, user=tenants.alice, feature="chat", model="m", provider="openai", credits="2")
    operator = Client()
    operator.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))
    for url in ("/admin/billing/usermonthlyusage/", "/admin/billing/dailyprovidercost/"):
        response = operator.get(url)
        assert response.status_code == 200, url
    assert "alice@example.com" in operator.get("/admin/billing/usermonthlyusage/").content.decode()
    assert "openai" in operator.get("/admin/billing/dailyprovidercost/").content.decode()


def test_campaigns_storage_and_what_was_made_are_shown(client, tenants):
    # given counted events of account A (and one of B)
    from billing.services.usage import count

    count(tenants.a, tenants.alice, campaigns_generated=2, storage_bytes_used=2048, projects_created=1,
          scripts_generated=3, voice_generations=1)  # fmt: skip
    count(tenants.b, tenants.carol, avatar_generations=7)
    # when
    client.force_login(tenants.alice)
    html = _html(client)
    # then
    assert _table(html, "member-usage") == [["alice@example.com", "0", "0", "0", "0", "2", "2.0\xa0KB", "0.000000"]]
    assert [row[1:] for row in _table(html, "activity")] == [["1", "0", "3", "1", "0"]]
