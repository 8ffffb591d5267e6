"""What the billing page tests share (test_wallet_pages.py, test_usage_pages.py, split
like billing/views.py): roles, the site URL, users by role, a page's HTML and charts,
ledger and money snapshots, query counts."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from accounts.tenancy.context import account_context, rls_bypass
from billing.models import CostControl, CreditTransaction, Payment, Subscription, TopUpRule, Wallet
from tests.accounts.factories import MembershipFactory, UserFactory

ROLES = [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER]
MANAGERS = [Role.OWNER, Role.ADMIN]
READERS = [Role.MEMBER, Role.VIEWER]
SVG_NS = "{http://www.w3.org/2000/svg}"
SITE = "https://app.example.com"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def _user_with_role(tenants, role: Role) -> User:
    if role == Role.OWNER:
        return tenants.alice
    if role == Role.MEMBER:
        return tenants.bob
    user = UserFactory(email=f"{role.value}@example.com")
    MembershipFactory(account=tenants.a, user=user, role=role)
    return user


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _svg(html: str, chart_id: str) -> ElementTree.Element:
    markup = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', html, re.S).group(0)
    return ElementTree.fromstring(markup)


def _points(svg: ElementTree.Element, series: str) -> dict[str, str]:
    group = svg.find(f"{SVG_NS}g[@data-series='{series}']")
    return {c.get("data-label"): c.get("data-value") for c in group.findall(f"{SVG_NS}circle")}


def _bars(svg: ElementTree.Element) -> list[tuple[str, str]]:
    return [(g.get("data-label"), g.get("data-value")) for g in svg.findall(f"{SVG_NS}g[@class='chart-bar']")]


def _ledger_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="tx-([0-9a-f-]{36})"', html)


def _ledger(account) -> list[tuple[str, Decimal]]:
    with account_context(account.id):
        return list(
            CreditTransaction.objects.filter(account=account).order_by("created_at").values_list("type", "amount")
        )


def _balance(account) -> Decimal:
    with account_context(account.id):
        return Wallet.objects.get(account=account).balance


def _money(account) -> dict:
    """Everything a billing page action could change for `account`."""
    with rls_bypass("test: snapshot"):
        control = CostControl.objects.filter(account=account).values(
            "daily_limit", "monthly_limit", "auto_shutoff", "shutoff_active"
        )
        return {
            "ledger": sorted(CreditTransaction.objects.filter(account=account).values_list("id", "amount")),
            "wallet": list(Wallet.objects.filter(account=account).values_list("balance", "auto_top_up_below")),
            "payments": list(Payment.objects.filter(account=account).values_list("id", "status")),
            "rules": sorted(TopUpRule.objects.filter(account=account).values_list("kind", "enabled", "threshold")),
            "subscription": list(
                Subscription.objects.filter(account=account).values_list("plan__code", "status", "cancel_at_period_end")
            ),
            "control": list(control),
        }


def _count_queries(client, url: str) -> int:
    client.get(url)  # warm up: the first request of a user also records its last activity
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)
