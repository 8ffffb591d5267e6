"""Buying a credit pack: checkout_start with the dev and the Stripe provider,
and the dev provider's checkout page."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import InvalidInput
from billing.models import CreditTransaction, Payment, WebhookEvent
from billing.providers.base import PaymentProviderError
from billing.services.payments import checkout_start
from tests.billing.factories import CreditPackFactory, PaymentFactory, wallet
from tests.support.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(db):
    return CreditPackFactory(code="starter", name="Starter", credits=Decimal("500"), price=Decimal("5.00"))


@pytest.fixture
def stripe(settings):
    fake = FakeStripe().start().use_in(settings)
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://app.example.com"


def money(account):
    """Everything a payment could change for `account`."""
    with rls_bypass("test: snapshot"):
        return {
            "balance": wallet(account).balance,
            "ledger": list(CreditTransaction.objects.filter(account=account).values_list("type", "amount")),
            "payments": list(Payment.objects.filter(account=account).values_list("status", "provider_ref")),
            "webhooks": WebhookEvent.objects.count(),
        }


def test_dev_checkout_creates_a_pending_payment_with_our_checkout_page(tenants, pack):
    # given
    a = tenants.a

    # when
    payment = checkout_start(account=a, actor=tenants.alice, pack=pack)

    # then
    with account_context(a.id):
        stored = Payment.objects.get(pk=payment.pk)
    assert (stored.status, stored.kind, stored.provider) == ("pending", "checkout", "dev")
    assert (stored.credits, stored.amount, stored.currency) == (Decimal("500"), Decimal("5"), "USD")
    assert stored.provider_ref == f"dev_cs_{payment.pk.hex}"
    assert stored.checkout_url == f"https://app.example.com/billing/dev-checkout/{payment.pk}/"
    assert stored.created_by == tenants.alice
    assert money(a)["ledger"] == []
    assert money(a)["balance"] == Decimal("0")


def test_stripe_checkout_creates_a_pending_payment_and_a_stripe_session(tenants, pack, stripe):
    # given
    a = tenants.a

    # when
    payment = checkout_start(account=a, actor=tenants.alice, pack=pack)

    # then
    with account_context(a.id):
        stored = Payment.objects.get(pk=payment.pk)
    assert (stored.status, stored.provider, stored.provider_ref) == ("pending", "stripe", "cs_test_0001")
    assert stored.checkout_url == f"{stripe.url}/c/pay/cs_test_0001"
    [request] = stripe.requests
    assert (request.method, request.path) == ("POST", "/v1/checkout/sessions")
    assert request.headers["Authorization"] == "Bearer sk_test_fake_0123456789"
    assert request.headers["Idempotency-Key"] == f"checkout-{payment.pk}"
    assert request.form == {
        "mode": "payment",
        "success_url": "https://app.example.com/billing/?checkout=success",
        "cancel_url": "https://app.example.com/billing/?checkout=cancelled",
        "client_reference_id": str(payment.pk),
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "500",
        "line_items[0][price_data][product_data][name]": "Starter",
        "customer_creation": "always",
        "metadata[account_id]": str(a.id),
        "metadata[payment_id]": str(payment.pk),
        "payment_intent_data[metadata][account_id]": str(a.id),
        "payment_intent_data[metadata][payment_id]": str(payment.pk),
        "payment_intent_data[setup_future_usage]": "off_session",
    }
    assert money(a)["ledger"] == []


def test_an_inactive_pack_cannot_be_bought(tenants):
    # given
    retired = CreditPackFactory(code="retired", is_active=False)
    before = money(tenants.a)

    # when
    with pytest.raises(InvalidInput) as caught:
        checkout_start(account=tenants.a, actor=tenants.alice, pack=retired)

    # then
    assert caught.value.message == "This credit pack is not available."
    assert caught.value.fields == {"pack": ["Choose an available pack."]}
    assert money(tenants.a) == before


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("http_500", "Stripe refused the request: Something went wrong on Stripe's end."),
        ("html_502", "Stripe refused the request: HTTP 502"),
        ("down", "Stripe could not be reached (ConnectError). No payment was taken."),
        ("slow", "Stripe did not answer within 0.3 s. No payment was taken."),
        ("no_key", "Stripe is not configured: set STRIPE_SECRET_KEY."),
    ],
)
def test_a_stripe_failure_fails_the_payment_with_a_clear_error_and_credits_nothing(
    tenants, pack, stripe, settings, breakage, message
):
    # given
    if breakage == "http_500":
        stripe.fail(500)
    elif breakage == "html_502":
        stripe.fail(502, "<html>Bad gateway</html>")
    elif breakage == "down":
        stripe.stop()
    elif breakage == "slow":
        settings.STRIPE_TIMEOUT = 0.3
        stripe.delay = 1.0
    else:
        settings.STRIPE_SECRET_KEY = ""

    # when
    with pytest.raises(PaymentProviderError) as caught:
        checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)

    # then
    assert caught.value.message == message
    assert caught.value.status == 502
    state = money(tenants.a)
    assert state["payments"] == [("failed", None)]
    assert state["ledger"] == []
    assert state["balance"] == Decimal("0")
    with account_context(tenants.a.id):
        assert Payment.objects.get().failure_reason == message


# --- the dev provider's checkout page -------------------------------------------------------


def test_paying_on_the_dev_checkout_page_credits_the_wallet_once(client, tenants, pack):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    client.force_login(tenants.alice)
    page = client.get(f"/billing/dev-checkout/{payment.pk}/")

    # when
    response = client.post(f"/billing/dev-checkout/{payment.pk}/")

    # then
    assert page.status_code == 200
    assert "Pay 5.00 USD" in page.content.decode()
    assert (response.status_code, response["Location"]) == (302, "/billing/")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Payment received: 500 credits were added."]
    with account_context(tenants.a.id):
        stored = Payment.objects.get(pk=payment.pk)
        tx = CreditTransaction.objects.get()
    assert (stored.status, stored.transaction_id) == ("succeeded", tx.id)
    assert (tx.type, tx.amount, tx.balance_after, tx.actor) == ("top_up", Decimal("500"), Decimal("500"), tenants.alice)
    assert (tx.provider, tx.provider_payment_id, tx.amount_paid, tx.currency) == (
        "dev", f"dev_cs_{payment.pk.hex}", Decimal("5"), "USD",
    )  # fmt: skip
    assert (tx.reference_type, tx.reference_id) == ("payment", str(payment.pk))
    assert money(tenants.a)["balance"] == Decimal("500")
    [event] = WebhookEvent.objects.all()
    assert (event.provider, event.type, event.account_ref, event.error) == (
        "dev", "checkout.session.completed", tenants.a.id, "",
    )  # fmt: skip


def test_paying_twice_on_the_dev_checkout_page_credits_once(client, tenants, pack):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    client.force_login(tenants.alice)
    client.post(f"/billing/dev-checkout/{payment.pk}/")
    before = money(tenants.a)

    # when
    response = client.post(f"/billing/dev-checkout/{payment.pk}/")

    # then
    assert (response.status_code, response["Location"]) == (302, "/billing/")
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == "This payment is already succeeded."
    assert money(tenants.a) == before
    assert before["balance"] == Decimal("500")


def test_another_accounts_payment_on_the_dev_checkout_page_is_404_and_nothing_is_written(client, tenants, pack):
    # given
    foreign = checkout_start(account=tenants.b, actor=tenants.carol, pack=pack)
    client.force_login(tenants.alice)
    before_a, before_b = money(tenants.a), money(tenants.b)

    # when
    page = client.get(f"/billing/dev-checkout/{foreign.pk}/")
    paid = client.post(f"/billing/dev-checkout/{foreign.pk}/")

    # then
    assert (page.status_code, paid.status_code) == (404, 404)
    assert "Starter" not in page.content.decode() + paid.content.decode()
    assert money(tenants.a) == before_a
    assert money(tenants.b) == before_b
    assert before_b["payments"] == [("pending", f"dev_cs_{foreign.pk.hex}")]


def test_a_member_cannot_pay_on_the_dev_checkout_page(client, tenants, pack):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    client.force_login(tenants.bob)  # member; buying credits takes an admin
    before = money(tenants.a)

    # when
    response = client.post(f"/billing/dev-checkout/{payment.pk}/")

    # then
    assert response.status_code == 403
    assert money(tenants.a) == before


def test_the_dev_checkout_page_is_gone_when_another_provider_is_configured(client, tenants, pack, settings):
    # given: a dev payment left over from before the switch to Stripe
    payment = PaymentFactory(account=tenants.a, pack=pack, provider="dev", provider_ref="dev_cs_left_over")
    settings.PAYMENT_PROVIDER = "stripe"
    client.force_login(tenants.alice)
    before = money(tenants.a)

    # when
    response = client.post(f"/billing/dev-checkout/{payment.pk}/")

    # then
    assert response.status_code == 404
    assert money(tenants.a) == before


def test_the_dev_checkout_page_sends_a_visitor_to_sign_in(client, tenants, pack):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    before = money(tenants.a)

    # when
    response = client.post(f"/billing/dev-checkout/{payment.pk}/")

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")
    assert money(tenants.a) == before
