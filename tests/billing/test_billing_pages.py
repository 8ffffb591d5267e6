"""The billing pages: wallet (balance, chart, ledger, CSV, buying, automatic
top-ups) and usage (charts, plan, limits, cost controls, emergency shut-off),
for every role, with the outsider's data never shown."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from accounts.tenancy.context import account_context, rls_bypass
from billing.models import CostControl, CreditTransaction, Payment, Subscription, TopUpRule, Wallet, WebhookEvent
from billing.selectors import wallet_history
from billing.services.controls import cost_control_update, shutoff_engage
from billing.services.subscriptions import subscription_for
from billing.services.usage import usage_record
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.billing.factories import PaymentFactory, TopUpRuleFactory, fund, spend

pytestmark = pytest.mark.django_db

ROLES = [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER]
MANAGERS = [Role.OWNER, Role.ADMIN]
READERS = [Role.MEMBER, Role.VIEWER]
SVG_NS = "{http://www.w3.org/2000/svg}"
SITE = "https://app.example.com"

# User, savepoint and user context, membership, tenant context; the wallet (get
# or create in its tenant context: 5); the ledger's count and page; the chart's
# three; the shut-off banner; rules, packs and recent payments (admins); the
# account switcher; release. The badge reuses the page's wallet.
WALLET_QUERIES = 21  # includes the saved card
# User and context (5); usage summary (3); subscription with its wallet (10);
# cost controls; spend today and this month; plans; limits (4); badge; account
# switcher; release.
USAGE_QUERIES = 27


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


# --- wallet page --------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_wallet_page_shows_balance_chart_and_ledger_to_every_role(client, tenants, role):
    # given A funded with 100 and 3 spent; B with a ledger of its own
    bonus = fund(tenants.a, "100")
    use = spend(tenants.a, "3")
    foreign = fund(tenants.b, "555")
    client.force_login(_user_with_role(tenants, role))

    # when they open the wallet page
    html = _html(client.get("/billing/"))

    # then the cards show A's balance, reservations and what can be spent
    assert '<span class="num" data-testid="balance">97</span>' in html
    assert '<span class="num" data-testid="reserved">0</span>' in html
    assert '<span class="num" data-testid="available">97</span>' in html
    assert 'data-testid="credits-badge">97 credits</a>' in html
    # and the ledger lists A's rows, newest first, with signed amounts and balances
    assert _ledger_ids(html) == [str(use.id), str(bonus.id)]
    assert '<td data-label="Amount" class="amount neg">−3</td>' in html
    assert '<td data-label="Amount" class="amount pos">+100</td>' in html
    assert '<td data-label="Balance after" class="amount">97</td>' in html
    assert '<td data-label="Description">test funds</td>' in html
    assert '<span data-testid="ledger-count">2 transactions</span>' in html
    # and the chart plots today's balance and spend
    today = timezone.localdate().isoformat()
    chart = _svg(html, "wallet-history")
    assert chart.find(f"{SVG_NS}title").text == "Balance and spend, last 30 days"
    assert _points(chart, "Balance")[today] == "97"
    assert _points(chart, "Spent")[today] == "3"
    assert len(_points(chart, "Balance")) == 30
    # and only admins and owners are offered to buy and to set up automatic top-ups
    manager = role.at_least(Role.ADMIN)
    assert ('data-testid="pack-small"' in html) is manager
    assert ('action="/billing/buy/"' in html) is manager
    assert ('data-testid="rule-threshold"' in html) is manager
    assert ('data-testid="read-only-note"' in html) is not manager
    # and nothing of B shows
    assert str(foreign.id) not in html
    assert "+555" not in html


def test_wallet_history_carries_closing_balances_forward(tenants):
    # given 100 in, 3 spent today
    fund(tenants.a, "100")
    spend(tenants.a, "3")
    today = timezone.localdate()

    # when the history is read as if it were two days later, with 50 in the wallet by then
    with account_context(tenants.a.id):
        days = wallet_history(tenants.a, balance_now=Decimal("50"), days=4, today=today + timedelta(days=2))

    # then the day before is empty, today closes at 97, tomorrow carries it, and the last day is the wallet
    assert [(d.day - today).days for d in days] == [-1, 0, 1, 2]
    assert [d.balance for d in days] == [Decimal("0"), Decimal("97"), Decimal("97"), Decimal("50")]
    assert [d.spent for d in days] == [Decimal("0"), Decimal("3"), Decimal("0"), Decimal("0")]


def test_ledger_filters_by_type_and_date(client, tenants):
    # given a bonus and two uses in A
    fund(tenants.a, "100")
    first, second = spend(tenants.a, "3"), spend(tenants.a, "4")
    client.force_login(tenants.bob)
    today = timezone.localdate()

    # when bob filters on uses
    uses = _html(client.get("/billing/?type=use"))
    # then only the uses are listed, the box stays ticked and the CSV link carries the filter
    assert _ledger_ids(uses) == [str(second.id), str(first.id)]
    assert '<input type="checkbox" name="type" value="use" checked>' in uses
    assert 'href="/billing/transactions.csv?type=use"' in uses

    # when he filters on dates
    up_to_yesterday = _html(client.get(f"/billing/?date_to={today - timedelta(days=1)}"))
    from_today = _html(client.get(f"/billing/?date_from={today}&date_to={today}"))
    # then the dates bound the rows
    assert _ledger_ids(up_to_yesterday) == []
    assert "No transactions match these filters." in up_to_yesterday
    assert len(_ledger_ids(from_today)) == 3


def test_ledger_explains_a_malformed_filter_and_ignores_it(client, tenants):
    fund(tenants.a, "100")
    client.force_login(tenants.alice)

    html = _html(client.get("/billing/?date_from=soon"))

    assert '<ul class="errorlist" data-testid="filter-errors"><li>From: Enter a valid date.</li></ul>' in html
    assert len(_ledger_ids(html)) == 1


def test_ledger_pages_by_fifty(client, tenants):
    # given 60 transactions in A
    for _ in range(60):
        fund(tenants.a, "1")
    client.force_login(tenants.alice)

    # when the first and second pages are opened
    first = _html(client.get("/billing/?type=bonus"))
    second = _html(client.get("/billing/?type=bonus&page=2"))

    # then 50 then 10 rows, linked to each other with the filter kept
    assert (len(_ledger_ids(first)), len(_ledger_ids(second))) == (50, 10)
    assert set(_ledger_ids(first)).isdisjoint(_ledger_ids(second))
    assert 'href="?type=bonus&amp;page=2#ledger">Older →</a>' in first
    assert "Page 2 of 2" in second


@pytest.mark.parametrize("rows", [5, 60])
def test_wallet_page_query_count_does_not_grow_with_the_ledger(client, tenants, rows):
    # given A with `rows` transactions, an automatic top-up rule and a purchase
    for _ in range(rows):
        fund(tenants.a, "2")
    TopUpRuleFactory(account=tenants.a, kind=TopUpRule.Kind.THRESHOLD, threshold=Decimal("10"))
    PaymentFactory(account=tenants.a)
    client.force_login(tenants.alice)

    # when alice opens the wallet page
    count = _count_queries(client, "/billing/")

    # then the query count is the pinned constant
    assert count == WALLET_QUERIES


def test_wallet_page_thanks_after_checkout_and_says_when_it_was_cancelled(client, tenants):
    client.force_login(tenants.alice)
    assert "your credits are added as soon as the payment provider confirms" in _html(
        client.get("/billing/?checkout=success")
    )
    assert "Checkout was cancelled; nothing was charged." in _html(client.get("/billing/?checkout=cancelled"))


def test_billing_pages_ask_anonymous_visitors_to_sign_in(client, db):
    for url in ("/billing/", "/billing/usage/", "/billing/transactions.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/auth/login/?next={url}"


def test_the_credits_badge_shows_on_other_pages(client, tenants):
    # given A with 42 credits
    fund(tenants.a, "42")
    client.force_login(tenants.bob)

    # when bob opens the dashboard
    html = _html(client.get("/dashboard/"))

    # then the badge links to the wallet
    assert '<a class="credits-badge" href="/billing/" title="Credit balance of Account A"' in html
    assert 'data-testid="credits-badge">42 credits</a>' in html


# --- CSV export ----------------------------------------------------------------------


def test_csv_export_has_the_filtered_ledger(client, tenants):
    # given a bonus and a use in A, and B's own ledger
    fund(tenants.a, "100")
    use = spend(tenants.a, "3")
    fund(tenants.b, "555")
    client.force_login(tenants.bob)

    # when the uses are exported
    response = client.get("/billing/transactions.csv?type=use")

    # then the file has the header and that one row
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="ledger-{tenants.a.id}.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["created_at", "type", "amount", "balance_after", "description", "reference_type",
                       "reference_id", "id"]  # fmt: skip
    assert [r[1:] for r in rows[1:]] == [["use", "-3.0000", "97.0000", "", "test", "x", str(use.id)]]


def test_csv_export_without_filters_has_every_row_of_the_account_only(client, tenants):
    # given two rows in A and one in B
    fund(tenants.a, "100")
    spend(tenants.a, "3")
    foreign = fund(tenants.b, "555")
    client.force_login(tenants.alice)

    # when everything is exported
    body = b"".join(client.get("/billing/transactions.csv").streaming_content).decode()

    # then A's two rows, and nothing of B
    rows = list(csv.reader(io.StringIO(body)))
    assert [(r[1], r[2]) for r in rows[1:]] == [("use", "-3.0000"), ("bonus", "100.0000")]
    assert str(foreign.id) not in body


def test_csv_export_refuses_a_malformed_filter(client, tenants):
    client.force_login(tenants.alice)
    response = client.get("/billing/transactions.csv?date_from=yesterday-ish")
    assert response.status_code == 400
    assert response.content.decode() == "Invalid filter. From: Enter a valid date.\n"


# --- buying credits --------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGERS)
def test_buy_sends_managers_to_the_checkout_page(client, tenants, role):
    # given an admin or owner of A
    user = _user_with_role(tenants, role)
    client.force_login(user)

    # when they press Buy on the small pack
    response = client.post("/billing/buy/", {"pack": "small"})

    # then a pending payment exists and they are sent to its checkout page (dev provider)
    with account_context(tenants.a.id):
        payment = Payment.objects.get(account=tenants.a)
    assert (payment.pack.code, payment.credits, payment.status, payment.created_by) == (
        "small", Decimal("500"), "pending", user
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == payment.checkout_url == f"{SITE}/billing/dev-checkout/{payment.id}/"


def test_buying_then_paying_on_the_dev_checkout_credits_the_wallet(client, tenants):
    # given alice sent to the dev checkout page for the medium pack
    client.force_login(tenants.alice)
    checkout = client.post("/billing/buy/", {"pack": "medium"})["Location"].removeprefix(SITE)

    # when she pays there
    page = client.post(checkout, follow=True)

    # then she is back on the wallet with the credits and the purchase listed
    html = _html(page)
    assert page.redirect_chain[-1][0] == "/billing/"
    assert '<li class="msg msg-success">Payment received: 2000 credits were added.</li>' in html
    assert '<span class="num" data-testid="balance">2,000</span>' in html
    assert '<td data-label="Status">Succeeded</td>' in html
    assert _ledger(tenants.a) == [("top_up", Decimal("2000"))]


@pytest.mark.parametrize("role", READERS)
def test_members_and_viewers_cannot_buy(client, tenants, role):
    # given a member or viewer of A
    client.force_login(_user_with_role(tenants, role))
    before = _money(tenants.a)

    # when they post the Buy form anyway
    response = client.post("/billing/buy/", {"pack": "small"})

    # then it is forbidden and no payment exists
    assert response.status_code == 403
    assert _money(tenants.a) == before


def test_buying_an_unknown_pack_is_explained(client, tenants):
    client.force_login(tenants.alice)
    client.get("/billing/")
    before = _money(tenants.a)

    response = client.post("/billing/buy/", {"pack": "gold"}, follow=True)

    assert response.redirect_chain == [("/billing/", 302)]
    assert '<li class="msg msg-error">Pack: This credit pack is not available.</li>' in _html(response)
    assert _money(tenants.a) == before


# --- automatic top-ups ---------------------------------------------------------------------


def test_an_admin_sets_up_and_turns_off_automatic_top_ups(client, tenants):
    # given an admin of A, which has 100 credits
    fund(tenants.a, "100")
    client.force_login(_user_with_role(tenants, Role.ADMIN))

    # when they save a threshold rule and a recurring rule
    saved = client.post(
        "/billing/top-up-rules/",
        {"kind": "threshold", "pack": "small", "threshold": "20", "enabled": "on"},
        follow=True,
    )
    client.post(
        "/billing/top-up-rules/", {"kind": "recurring", "pack": "large", "interval_days": "30", "enabled": "on"}
    )

    # then both rules exist, the wallet watches the threshold and the page says so
    assert "Automatic top-up saved: 500 credits whenever the balance falls below 20." in _html(saved)
    with account_context(tenants.a.id):
        rules = {r.kind: r for r in TopUpRule.objects.filter(account=tenants.a).select_related("pack")}
    assert (rules["threshold"].pack.code, rules["threshold"].threshold, rules["threshold"].enabled) == (
        "small", Decimal("20"), True
    )  # fmt: skip
    assert (rules["recurring"].pack.code, rules["recurring"].interval_days) == ("large", 30)
    assert _money(tenants.a)["wallet"] == [(Decimal("100"), Decimal("20"))]
    page = _html(client.get("/billing/"))
    assert 'name="threshold" min="0" step="0.0001" inputmode="decimal" value="20"' in page
    assert f'action="/billing/top-up-rules/{rules["threshold"].pk}/disable/"' in page

    # when the threshold rule is turned off
    off = client.post(f"/billing/top-up-rules/{rules['threshold'].pk}/disable/", follow=True)

    # then it stays, off, and the wallet no longer watches the balance
    assert "Automatic top-up turned off." in _html(off)
    assert _money(tenants.a)["rules"] == [("recurring", True, None), ("threshold", False, Decimal("20"))]
    assert _money(tenants.a)["wallet"] == [(Decimal("100"), None)]


def test_an_invalid_top_up_rule_is_explained_and_not_saved(client, tenants):
    client.force_login(tenants.alice)
    client.get("/billing/")
    before = _money(tenants.a)

    response = client.post("/billing/top-up-rules/", {"kind": "recurring", "pack": "small", "interval_days": "0"})

    assert response.status_code == 302
    html = _html(client.get("/billing/"))
    assert "Say every how many days to top up. Interval days: Enter a whole number of days from 1 to 366." in html
    assert _money(tenants.a) == before


@pytest.mark.parametrize("role", READERS)
def test_members_and_viewers_cannot_touch_automatic_top_ups(client, tenants, role):
    # given A with a threshold rule
    rule = TopUpRuleFactory(account=tenants.a, kind=TopUpRule.Kind.THRESHOLD, threshold=Decimal("10"))
    client.force_login(_user_with_role(tenants, role))
    before = _money(tenants.a)

    # when they post both forms
    saved = client.post("/billing/top-up-rules/", {"kind": "threshold", "pack": "large", "threshold": "99"})
    disabled = client.post(f"/billing/top-up-rules/{rule.pk}/disable/")

    # then both are forbidden and nothing changed
    assert (saved.status_code, disabled.status_code) == (403, 403)
    assert _money(tenants.a) == before


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
    shutoff_engage(account=tenants.a, actor=None, reason="daily limit of 50 credits reached")
    client.force_login(tenants.alice)

    html = _html(client.get("/billing/usage/"))

    assert 'data-testid="shutoff-banner"' in html
    assert '<a href="/billing/usage/#shutoff">Lift it</a> when it is safe.' in html
    assert 'action="/billing/usage/shutoff/lift/"' in html


# --- the other account -----------------------------------------------------------------------


def test_another_accounts_transactions_and_rules_never_appear_or_change(client, tenants):
    # given B with ledger rows and an automatic top-up rule
    foreign = [fund(tenants.b, "555"), spend(tenants.b, "5")]
    foreign_rule = TopUpRuleFactory(account=tenants.b, kind=TopUpRule.Kind.THRESHOLD, threshold=Decimal("10"))
    fund(tenants.a, "100")
    client.force_login(tenants.alice)
    before = _money(tenants.b)

    # when alice browses every billing view of A, filtered or not, and aims at B's rule
    pages = [
        _html(client.get(url))
        for url in ("/billing/", "/billing/?type=bonus&type=use", "/billing/?page=2", "/billing/usage/")
    ]
    pages.append(b"".join(client.get("/billing/transactions.csv").streaming_content).decode())
    disable = client.post(f"/billing/top-up-rules/{foreign_rule.pk}/disable/")

    # then no id of B appears, the rule is a 404 and B is untouched
    for body in pages:
        for tx in foreign:
            assert str(tx.id) not in body
        assert str(foreign_rule.pk) not in body
    assert disable.status_code == 404
    assert _money(tenants.b) == before


def test_wallet_page_shows_the_saved_card_of_this_account_only(tenants):
    from billing.models import PaymentCustomer

    with account_context(tenants.a.id):
        PaymentCustomer.objects.create(
            account=tenants.a, provider="stripe", customer_ref="cus_1", payment_method_ref="pm_1",
            card_brand="visa", card_last4="4242",
        )  # fmt: skip
    client = Client()
    client.force_login(tenants.alice)
    assert "Saved card: Visa ending in 4242" in client.get("/billing/").content.decode()
    client.force_login(tenants.carol)
    assert "No saved card yet" in client.get("/billing/").content.decode()
