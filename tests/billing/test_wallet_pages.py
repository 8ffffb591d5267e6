"""The wallet page (billing/views.py, "wallet"): balance, chart, ledger, CSV export,
buying credits and automatic top-ups, for every role, with the outsider's data never
shown."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from billing.models import Payment, TopUpRule
from billing.selectors import wallet_history
from tests.billing.factories import PaymentFactory, TopUpRuleFactory, fund, spend
from tests.billing.pages import (
    MANAGERS,
    READERS,
    ROLES,
    SITE,
    SVG_NS,
    _count_queries,
    _html,
    _ledger,
    _ledger_ids,
    _money,
    _points,
    _site,  # noqa: F401 (the autouse fixture: SITE_URL)
    _svg,
    _user_with_role,
)

pytestmark = pytest.mark.django_db

# User, savepoint and user context, membership, tenant context; the wallet (get
# or create in its tenant context: 5); the ledger's count and page; the chart's
# three; the shut-off banner; rules, packs and recent payments (admins); the
# account switcher; release. The badge reuses the page's wallet.
WALLET_QUERIES = 21  # includes the saved card


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
