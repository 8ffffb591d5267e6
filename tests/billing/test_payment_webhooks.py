"""POST /billing/webhooks/<provider>/: verified, recorded once, credited once."""

import json
import time
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context, rls_bypass
from billing.models import CreditTransaction, Payment, WebhookEvent
from billing.providers.dev import DevProvider
from billing.services.payments import checkout_start
from tests.billing.factories import CreditPackFactory, wallet
from tests.support.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(settings):
    fake = FakeStripe().start().use_in(settings)
    yield fake
    fake.stop()


@pytest.fixture
def pack(db):
    return CreditPackFactory(code="starter", name="Starter", credits=Decimal("500"), price=Decimal("5.00"))


@pytest.fixture
def paying(tenants, pack, stripe):
    """Alice of account A has opened a Stripe checkout for the Starter pack."""
    return checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)


def money(account):
    with rls_bypass("test: snapshot"):
        return {
            "balance": wallet(account).balance,
            "ledger": list(CreditTransaction.objects.filter(account=account).values_list("type", "amount")),
            "payments": list(Payment.objects.filter(account=account).values_list("status", "failure_reason")),
        }


def events():
    return list(
        WebhookEvent.objects.order_by("received_at", "id").values_list("event_id", "type", "account_ref", "error")
    )


def test_a_verified_checkout_webhook_credits_the_payment(client, tenants, stripe, paying):
    # given
    event = stripe.checkout_completed("cs_test_0001")

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert response.json() == {"received": True, "event_id": event["id"]}
    assert money(tenants.a) == {"balance": Decimal("500"), "ledger": [("top_up", Decimal("500"))],
                                "payments": [("succeeded", "")]}  # fmt: skip
    with account_context(tenants.a.id):
        tx = CreditTransaction.objects.get()
    assert (tx.provider, tx.provider_payment_id, tx.amount_paid, tx.currency, tx.payment_method) == (
        "stripe", "cs_test_0001", Decimal("5"), "USD", "checkout",
    )  # fmt: skip
    assert events() == [(event["id"], "checkout.session.completed", tenants.a.id, "")]


def test_the_same_webhook_delivered_twice_credits_once(client, tenants, stripe, paying):
    # given
    event = stripe.checkout_completed("cs_test_0001")
    first = stripe.deliver(client, event)

    # when
    second = stripe.deliver(client, event)

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"received": True, "event_id": event["id"]}
    assert money(tenants.a)["ledger"] == [("top_up", Decimal("500"))]
    assert money(tenants.a)["balance"] == Decimal("500")
    assert len(events()) == 1


def test_two_different_events_for_the_same_payment_credit_once(client, tenants, stripe, paying):
    # given
    completed = stripe.checkout_completed("cs_test_0001")
    stripe.deliver(client, completed)
    also_paid = stripe.checkout_event("checkout.session.async_payment_succeeded", "cs_test_0001", payment_status="paid")

    # when
    response = stripe.deliver(client, also_paid)

    # then
    assert response.status_code == 200
    assert money(tenants.a)["ledger"] == [("top_up", Decimal("500"))]
    assert events() == [
        (completed["id"], "checkout.session.completed", tenants.a.id, ""),
        (also_paid["id"], "checkout.session.async_payment_succeeded", tenants.a.id, "ignored: already credited"),
    ]


@pytest.mark.parametrize(
    ("tamper", "code", "message"),
    [
        ("forged", "invalid_signature", "The signature does not match the body."),
        ("body_changed", "invalid_signature", "The signature does not match the body."),
        (
            "stale",
            "stale_signature",
            "The signature timestamp is outside the 300 s tolerance (replayed or clock skew).",
        ),
        (
            "future",
            "stale_signature",
            "The signature timestamp is outside the 300 s tolerance (replayed or clock skew).",
        ),
        ("missing", "invalid_signature", "The signature header is missing."),
        (
            "garbled",
            "invalid_signature",
            "The signature header is malformed: it needs t=<timestamp> and v1=<signature>.",
        ),
    ],
)
def test_an_unverifiable_webhook_is_400_and_writes_nothing(client, tenants, stripe, paying, tamper, code, message):
    # given
    event = stripe.checkout_completed("cs_test_0001")
    body = json.dumps(event).encode()
    now = int(time.time())
    header = {
        "forged": stripe.sign(body, secret="whsec_guessed"),
        "body_changed": stripe.sign(body),
        # Well past the 300 s window: `now` is truncated, and the check runs a moment later.
        "stale": stripe.sign(body, timestamp=now - 310),
        "future": stripe.sign(body, timestamp=now + 310),
        "missing": "",
        "garbled": "v0=abc,t=yesterday",
    }[tamper]
    if tamper == "body_changed":
        body = body.replace(b'"amount_total": 500', b'"amount_total": 50000')
    before = money(tenants.a)

    # when
    response = stripe.deliver(client, body, header=header)

    # then
    assert response.status_code == 400
    assert response.json() == {"error": {"code": code, "message": message}}
    assert money(tenants.a) == before
    assert before["payments"] == [("pending", "")]
    assert events() == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"id": "evt_1"}', b'{"id": "evt_1", "type": "checkout.session.completed"}',
     b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {"amount_total": 500}}}',
     b"\xff\xfe"],
)  # fmt: skip
def test_a_signed_but_malformed_body_is_400_and_writes_nothing(client, tenants, stripe, paying, body):
    # given
    before = money(tenants.a)

    # when
    response = stripe.deliver(client, body)

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    assert money(tenants.a) == before
    assert events() == []


def test_a_webhook_for_an_unknown_payment_is_recorded_and_ignored(client, tenants, stripe, paying):
    # given
    event = stripe.event("checkout.session.completed", {
        "id": "cs_test_unknown", "object": "checkout.session", "amount_total": 500, "currency": "usd",
        "payment_status": "paid", "metadata": {},
    })  # fmt: skip
    before = money(tenants.a)

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert money(tenants.a) == before
    assert events() == [
        (event["id"], "checkout.session.completed", None, "ignored: no payment matches cs_test_unknown")
    ]


def test_an_unhandled_event_type_is_recorded_and_ignored(client, tenants, stripe, paying):
    # given
    event = stripe.event("customer.created", {"id": "cus_123", "object": "customer"})

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert events() == [(event["id"], "customer.created", None, "ignored: customer.created is not handled")]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount_total": 100}, "Paid 1.00 USD, but the payment is for 5.00 USD."),
        ({"currency": "eur"}, "Paid 5.00 EUR, but the payment is for 5.00 USD."),
        ({"amount_total": None}, "Paid an unknown amount, but the payment is for 5.00 USD."),
    ],
)
def test_a_payment_whose_amount_does_not_match_is_not_credited(client, tenants, stripe, paying, changes, reason):
    # given
    event = stripe.checkout_completed("cs_test_0001", **changes)

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert money(tenants.a) == {"balance": Decimal("0"), "ledger": [],
                                "payments": [("failed", f"Not credited: {reason} Needs review.")]}  # fmt: skip
    assert events() == [(event["id"], "checkout.session.completed", tenants.a.id, f"not credited: {reason}")]


def test_an_expired_checkout_expires_the_payment(client, tenants, stripe, paying):
    # given
    event = stripe.checkout_event("checkout.session.expired", "cs_test_0001", status="expired")

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert money(tenants.a) == {"balance": Decimal("0"), "ledger": [],
                                "payments": [("expired", "The checkout expired before it was paid.")]}  # fmt: skip


def test_a_completed_checkout_that_is_not_paid_yet_changes_nothing(client, tenants, stripe, paying):
    # given: a delayed payment method (e.g. a bank debit) is still settling
    event = stripe.checkout_completed("cs_test_0001", payment_status="unpaid")
    before = money(tenants.a)

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert money(tenants.a) == before
    assert events()[0][3] == "ignored: checkout.session.completed does not settle a payment yet"


def test_an_event_naming_another_account_in_its_metadata_credits_nothing(client, tenants, stripe, paying):
    # given
    session = stripe.sessions["cs_test_0001"]
    event = stripe.checkout_completed("cs_test_0001", metadata={**session["metadata"], "account_id": str(tenants.b.id)})
    before_a, before_b = money(tenants.a), money(tenants.b)

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert (money(tenants.a), money(tenants.b)) == (before_a, before_b)
    assert events()[0][2:] == (None, "ignored: no payment matches cs_test_0001")


def test_a_stripe_event_cannot_settle_a_dev_payment(client, tenants, pack, settings):
    # given: a dev payment, then the platform switched to Stripe
    dev_payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    fake = FakeStripe().start().use_in(settings)
    event = fake.event("checkout.session.completed", {
        "id": dev_payment.provider_ref, "object": "checkout.session", "amount_total": 500, "currency": "usd",
        "payment_status": "paid",
    })  # fmt: skip
    before = money(tenants.a)

    # when
    response = fake.deliver(client, event)
    fake.stop()

    # then
    assert response.status_code == 200
    assert money(tenants.a) == before


def test_the_dev_webhook_goes_through_the_same_verified_path(client, tenants, pack):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    signed = DevProvider().signed_event(payment, "checkout.session.completed")

    # when
    forged = client.post(
        "/billing/webhooks/dev/",
        data=signed.body,
        content_type="application/json",
        headers={"Dev-Signature": signed.headers["Dev-Signature"].replace("v1=", "v1=0")},
    )
    genuine = client.post("/billing/webhooks/dev/", data=signed.body, content_type="application/json",
                          headers=signed.headers)  # fmt: skip

    # then
    assert forged.status_code == 400
    assert genuine.status_code == 200
    assert money(tenants.a)["ledger"] == [("top_up", Decimal("500"))]


def test_dev_webhooks_are_refused_where_dev_is_not_the_provider(client, tenants, pack, settings):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    signed = DevProvider().signed_event(payment, "checkout.session.completed")
    settings.PAYMENT_PROVIDER = "stripe"
    before = money(tenants.a)

    # when
    response = client.post("/billing/webhooks/dev/", data=signed.body, content_type="application/json",
                           headers=signed.headers)  # fmt: skip

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "provider_disabled", "message": "The dev payment provider is not enabled here."}
    }
    assert money(tenants.a) == before
    assert events() == []


def test_an_unknown_provider_is_404_and_a_get_is_405(client, stripe):
    # when
    unknown = client.post("/billing/webhooks/paypal/", data=b"{}", content_type="application/json")
    get = client.get("/billing/webhooks/stripe/")

    # then
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {"code": "unknown_payment_provider", "message": "Unknown payment provider 'paypal'."}
    }
    assert get.status_code == 405
    assert events() == []


def test_without_a_webhook_secret_nothing_is_accepted(client, tenants, stripe, paying, settings):
    # given
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = stripe.checkout_completed("cs_test_0001")
    before = money(tenants.a)

    # when: even a body "signed" with the empty secret
    response = stripe.deliver(client, event, secret="")

    # then
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "webhook_not_configured"
    assert money(tenants.a) == before


# Subscription events (invoices, subscription changes): tests/billing/test_subscriptions.py
