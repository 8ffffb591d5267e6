"""The usage page (billing/views.py, "usage, plan, cost controls"): charts, plan,
limits, cost controls and the emergency shut-off, for every role."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from accounts.actors import system_actor
from accounts.models import Role
from accounts.tenancy.context import account_context
from billing.models import Payment, Subscription, WebhookEvent
from billing.services.controls import cost_control_update, shutoff_engage
from billing.services.subscriptions import subscription_for
from billing.services.usage import usage_record
from tests.billing.pages import (
    MANAGERS,
    READERS,
    ROLES,
    _balance,
    _bars,
    _count_queries,
    _html,
    _ledger,
    _money,
    _points,
    _site,  # noqa: F401 (the autouse fixture: SITE_URL)
    _svg,
    _user_with_role,
)

pytestmark = pytest.mark.django_db

# User and context (5); usage summary (3); subscription with its wallet (10);
# cost controls; spend today and this month; plans; limits (4) and storage (2);
# members this month; provider costs; badge; account switcher; release.
USAGE_QUERIES = 31


# --- usage page --------------------------------------------------------------------------


def _usage(account, user, feature, model, credits, calls=1):
    for _ in range(calls):
        usage_record(account=account, user=user, feature=feature, model=model, provider="local", credits=credits,
                     generation=feature != "embedding")  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_usage_page_shows_charts_plan_and_limits_to_every_role(client, tenants, role):
    # given A's usage: two chat calls of one model and one embedding; B used another model
    _usage(tenants.a, tenants.alice, "chat", "gpt-4o-mini", "2.5", calls=2)
    _usage(tenants.a, tenants.bob, "embedding", "all-minilm-l6-v2", "0.5")
    _usage(tenants.b, tenants.carol, "chat", "secret-model-of-b", "9")
    user = _user_with_role(tenants, role)
    client.force_login(user)

    # when they open the usage page
    html = _html(client.get("/billing/usage/"))

    # then totals and charts show A's usage only
    today = timezone.localdate().isoformat()
    assert '<span class="num" data-testid="total-credits">5.5</span>' in html
    assert '<span class="num" data-testid="total-calls">3</span>' in html
    assert '<span class="num" data-testid="spent-today">5.5</span>' in html
    daily = _svg(html, "usage-daily")
    assert (_points(daily, "Credits")[today], _points(daily, "Calls")[today]) == ("5.5", "3")
    assert _bars(_svg(html, "usage-features")) == [("chat", "5"), ("embedding", "0.5")]
    assert _bars(_svg(html, "usage-models")) == [("gpt-4o-mini", "5"), ("all-minilm-l6-v2", "0.5")]
    assert "secret-model-of-b" not in html
    # and the plan with its limits and how much is used (members: alice, bob and the viewer/admin)
    assert "You are on the <strong>Free</strong> plan · active" in html
    members = 2 if role in (Role.OWNER, Role.MEMBER) else 3
    assert f'<span class="limit-figure">{members} of 3</span>' in html
    assert '<progress max="50" value="2"' in html  # two AI generations of the 50 a month (embeddings are none)
    # and only admins and owners get the plan picker, cost control form and shut-off button
    manager = role.at_least(Role.ADMIN)
    assert ('<input type="hidden" name="plan" value="creator">' in html) is manager
    assert ('data-testid="cost-controls-form"' in html) is manager
    assert ('action="/billing/usage/shutoff/"' in html) is manager
    assert 'data-testid="shutoff-banner"' not in html


def test_usage_page_period_can_be_chosen(client, tenants):
    client.force_login(tenants.bob)

    week = _html(client.get("/billing/usage/?days=7"))
    nonsense = _html(client.get("/billing/usage/?days=-4"))

    assert len(_points(_svg(week, "usage-daily"), "Credits")) == 7
    assert '<option value="7" selected>last 7 days</option>' in week
    assert len(_points(_svg(nonsense, "usage-daily"), "Credits")) == 30


@pytest.mark.parametrize("models", [1, 12])
def test_usage_page_query_count_does_not_grow_with_usage(client, tenants, models):
    # given A's usage spread over `models` models
    for n in range(models):
        _usage(tenants.a, tenants.alice, "chat", f"model-{n}", "1")
    client.force_login(tenants.alice)

    # when alice opens the usage page
    count = _count_queries(client, "/billing/usage/")

    # then the query count is the pinned constant
    assert count == USAGE_QUERIES


# --- plan ----------------------------------------------------------------------------------


def _subscribe(client, plan_code: str):
    """Pick a paid plan on the usage page, then pay on the dev provider's checkout page."""
    opened = client.post("/billing/usage/plan/", {"plan": plan_code})
    return opened, client.post(urlsplit(opened["Location"]).path, follow=True)


@pytest.mark.parametrize("role", MANAGERS)
def test_a_paid_plan_starts_only_once_its_checkout_is_paid(client, tenants, role):
    # given A on the free plan (100 credits granted)
    subscription_for(tenants.a)
    client.force_login(_user_with_role(tenants, role))

    # when they pick Creator
    opened = client.post("/billing/usage/plan/", {"plan": "creator"})

    # then they are sent to the provider's checkout, and nothing changed yet
    with account_context(tenants.a.id):
        payment = Payment.objects.get(account=tenants.a, kind="subscription")
    assert opened.status_code == 302
    assert opened["Location"] == f"https://app.example.com/billing/dev-checkout/{payment.pk}/"
    assert _money(tenants.a)["subscription"] == [("free", "active", False)]
    assert _balance(tenants.a) == Decimal("100")

    # when they pay there
    paid = client.post(f"/billing/dev-checkout/{payment.pk}/", follow=True)

    # then the plan started through the provider's signed events: Creator's one trial, no credits until paid
    with account_context(tenants.a.id):
        sub = Subscription.objects.select_related("plan").get(account=tenants.a)
    assert (sub.plan.code, sub.status, sub.provider) == ("creator", "trialing", "dev")
    assert sub.provider_subscription_id == f"dev_sub_{payment.pk.hex}"
    assert list(WebhookEvent.objects.filter(provider="dev").order_by("received_at").values_list("type", flat=True)) == [
        "checkout.session.completed", "invoice.paid",
    ]  # fmt: skip
    assert _ledger(tenants.a) == [("grant", Decimal("100"))]
    html = _html(paid)
    assert paid.redirect_chain == [("/billing/usage/", 302)]
    assert "Payment received: you are on the Creator plan." in html
    assert "You are on the <strong>Creator</strong> plan · trialing until" in html


@pytest.mark.parametrize("role", READERS)
def test_members_and_viewers_cannot_change_the_plan(client, tenants, role):
    # given someone with `role` on the usage page of A, which is on the free plan
    client.force_login(_user_with_role(tenants, role))
    client.get("/billing/usage/")
    before = _money(tenants.a)

    # when they post a plan change
    response = client.post("/billing/usage/plan/", {"plan": "agency"}, follow=True)

    # then the page explains; plan and credits are unchanged
    assert '<li class="msg msg-error">Only admins and owners can change the plan.</li>' in _html(response)
    assert _money(tenants.a) == before


def test_an_unknown_plan_is_explained(client, tenants):
    client.force_login(tenants.alice)
    client.get("/billing/usage/")
    before = _money(tenants.a)

    response = client.post("/billing/usage/plan/", {"plan": "platinum"}, follow=True)

    assert "There is no plan &#x27;platinum&#x27;. Plan: Choose an available plan." in _html(response)
    assert _money(tenants.a) == before


def test_only_owners_cancel_the_subscription(client, tenants):
    # given A on the Business plan, paid through the dev checkout
    subscription_for(tenants.a)
    client.force_login(tenants.alice)
    _subscribe(client, "business")
    admin = _user_with_role(tenants, Role.ADMIN)

    # when an admin cancels
    client.force_login(admin)
    refused = client.post("/billing/usage/plan/cancel/", follow=True)
    # then it is refused and the page offers them no cancel button
    assert "Only owners can cancel the subscription." in _html(refused)
    assert "Cancel subscription</button>" not in _html(refused)
    assert _money(tenants.a)["subscription"] == [("business", "trialing", False)]

    # when the owner cancels
    client.force_login(tenants.alice)
    cancelled = _html(client.post("/billing/usage/plan/cancel/", follow=True))
    # then it ends with the period
    assert _money(tenants.a)["subscription"] == [("business", "trialing", True)]
    assert "the account then returns to the Free plan." in cancelled
    assert "Cancel subscription</button>" not in cancelled


# --- cost controls and the shut-off ---------------------------------------------------------


def _limits(tenants):
    cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="10", monthly_limit="100")


def test_the_usage_page_shows_no_limits_until_they_are_set(client, tenants):
    # given A, whose cost controls were never set
    client.force_login(tenants.alice)

    # when the usage page is opened
    html = _html(client.get("/billing/usage/"))

    # then it says there are no limits, and opening it armed none
    assert '<td data-testid="daily-usage">0 (no daily limit) credits</td>' in html
    assert 'name="daily_limit" min="0" step="0.0001" inputmode="decimal" value=""' in html
    assert _money(tenants.a)["control"] == []


@pytest.mark.parametrize("role", MANAGERS)
def test_managers_set_cost_controls(client, tenants, role):
    client.force_login(_user_with_role(tenants, role))

    response = client.post(
        "/billing/usage/cost-controls/",
        {"daily_limit": "50", "monthly_limit": "1000", "auto_shutoff": "on"},
        follow=True,
    )

    html = _html(response)
    assert '<li class="msg msg-success">Cost controls saved.</li>' in html
    assert _money(tenants.a)["control"] == [
        {"daily_limit": Decimal("50"), "monthly_limit": Decimal("1000"), "auto_shutoff": True, "shutoff_active": False}
    ]
    assert '<td data-testid="daily-usage">0 of 50 credits</td>' in html
    assert 'name="monthly_limit" min="0" step="0.0001" inputmode="decimal" value="1000"' in html


def test_cost_controls_refuse_a_daily_limit_above_the_monthly_one(client, tenants):
    _limits(tenants)
    client.force_login(tenants.alice)
    client.get("/billing/usage/")
    before = _money(tenants.a)

    response = client.post("/billing/usage/cost-controls/", {"daily_limit": "100", "monthly_limit": "50"}, follow=True)

    assert "The daily limit cannot be above the monthly limit. Daily limit: Lower than monthly." in _html(response)
    assert _money(tenants.a) == before


@pytest.mark.parametrize("role", READERS)
def test_members_and_viewers_cannot_change_cost_controls(client, tenants, role):
    _limits(tenants)
    client.force_login(_user_with_role(tenants, role))
    client.get("/billing/usage/")
    before = _money(tenants.a)

    response = client.post("/billing/usage/cost-controls/", {"daily_limit": "1", "auto_shutoff": "on"}, follow=True)

    assert "Only admins and owners can change cost controls." in _html(response)
    assert _money(tenants.a) == before


def test_shutoff_is_engaged_by_admins_and_lifted_by_owners(client, tenants):
    admin = _user_with_role(tenants, Role.ADMIN)

    # when a member tries to engage it
    client.force_login(tenants.bob)
    refused = _html(client.post("/billing/usage/shutoff/", {"reason": "bob"}, follow=True))
    # then nothing happens
    assert "Only admins and owners can pause AI features." in refused
    assert _money(tenants.a)["control"] == []

    # when an admin engages it
    client.force_login(admin)
    engaged = _html(client.post("/billing/usage/shutoff/", {"reason": "runaway script"}, follow=True))
    # then it is on, with a banner on both billing pages that says who may lift it
    assert "Emergency shut-off engaged: AI features are paused for this account." in engaged
    assert _money(tenants.a)["control"][0]["shutoff_active"] is True
    for html in (engaged, _html(client.get("/billing/"))):
        assert 'data-testid="shutoff-banner"' in html
        assert "(runaway script): every AI call is refused." in html
        assert "Only an owner can lift it." in html

    # when the admin tries to lift it
    not_lifted = _html(client.post("/billing/usage/shutoff/lift/", follow=True))
    # then it stays on
    assert "Only owners can lift the emergency shut-off." in not_lifted
    assert _money(tenants.a)["control"][0]["shutoff_active"] is True

    # when the owner lifts it
    client.force_login(tenants.alice)
    lifted = _html(client.post("/billing/usage/shutoff/lift/", follow=True))
    # then AI works again and the banner is gone
    assert "Emergency shut-off lifted: AI features work again." in lifted
    assert 'data-testid="shutoff-banner"' not in lifted
    assert _money(tenants.a)["control"][0]["shutoff_active"] is False


def test_the_owner_sees_a_lift_button_on_an_engaged_shutoff(client, tenants):
    shutoff_engage(account=tenants.a, actor=system_actor("test"), reason="daily limit of 50 credits reached")
    client.force_login(tenants.alice)

    html = _html(client.get("/billing/usage/"))

    assert 'data-testid="shutoff-banner"' in html
    assert '<a href="/billing/usage/#shutoff">Lift it</a> when it is safe.' in html
    assert 'action="/billing/usage/shutoff/lift/"' in html
