"""The Stripe adapter against a Stripe stand-in on loopback: what it sends, what it
makes of the answers, and webhook verification exactly as Stripe documents it."""

import json
import time
from decimal import Decimal

import pytest

from billing.providers.base import (
    ChargeResult,
    PaymentProviderError,
    ProviderEvent,
    WebhookRejected,
    compute_signature,
    get_provider,
)
from billing.providers.stripe import StripeProvider, from_minor_units, parse_event, to_minor_units
from tests.billing.factories import CreditPackFactory, PaymentFactory
from tests.support.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(settings):
    fake = FakeStripe().start().use_in(settings)
    yield fake
    fake.stop()


@pytest.fixture
def payment(tenants):
    pack = CreditPackFactory(code="won", name="Won pack", credits=Decimal("500"), price=Decimal("5000"), currency="KRW")
    return PaymentFactory(account=tenants.a, pack=pack, kind="auto_top_up", currency="KRW", provider="stripe",
                          provider_ref=None)  # fmt: skip


def test_get_provider_follows_the_setting(settings):
    # given
    settings.PAYMENT_PROVIDER = "stripe"

    # when
    provider = get_provider()

    # then
    assert isinstance(provider, StripeProvider)
    assert get_provider("dev").name == "dev"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("5.00", "USD", 500), ("19.99", "usd", 1999), ("5000", "KRW", 5000), ("300", "JPY", 300), ("1.234", "KWD", 1234)],
)
def test_amounts_go_to_stripe_in_the_currencys_smallest_unit(amount, currency, minor):
    # when / then
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount)


def test_an_amount_finer_than_the_currency_is_refused():
    # when
    with pytest.raises(PaymentProviderError) as caught:
        to_minor_units(Decimal("5.001"), "USD")

    # then
    assert caught.value.message == "5.001 USD cannot be charged: too many decimal places for USD."


def test_charge_saved_confirms_an_off_session_payment_intent(stripe, payment, tenants):
    # when
    result = StripeProvider().charge_saved(payment, "cus_123/pm_456")

    # then
    assert result == ChargeResult(provider_ref="pi_test_0001", status="succeeded")
    [request] = stripe.requests
    assert (request.path, request.headers["Idempotency-Key"]) == ("/v1/payment_intents", f"auto-top-up-{payment.pk}")
    assert request.form == {
        "amount": "5000",
        "currency": "krw",
        "customer": "cus_123",
        "payment_method": "pm_456",
        "off_session": "true",
        "confirm": "true",
        "description": "Automatic top-up: 500 credits",
        "metadata[account_id]": str(tenants.a.id),
        "metadata[payment_id]": str(payment.pk),
    }


@pytest.mark.parametrize(
    ("intent_status", "expected"),
    [
        ("processing", ChargeResult("pi_test_0001", "pending")),
        ("requires_action", ChargeResult("pi_test_0001", "failed", "The card needs the cardholder's authentication.")),
        ("canceled", ChargeResult("pi_test_0001", "failed", "Stripe left the payment in status 'canceled'.")),
    ],
)
def test_charge_saved_reports_an_unfinished_intent(stripe, payment, intent_status, expected):
    # given
    stripe.intent_status = intent_status

    # when
    result = StripeProvider().charge_saved(payment, "cus_123/pm_456")

    # then
    assert result == expected


def test_a_declined_card_is_a_clear_error_naming_the_intent(stripe, payment):
    # given
    stripe.decline("Your card was declined.")

    # when
    with pytest.raises(PaymentProviderError) as caught:
        StripeProvider().charge_saved(payment, "cus_123/pm_456")

    # then
    assert (caught.value.code, caught.value.message) == (
        "payment_declined",
        "Stripe refused the request: Your card was declined.",
    )
    assert caught.value.extra == {"provider_status": 402, "provider_ref": "pi_test_0001"}


def test_without_a_saved_card_nothing_is_sent(stripe, payment):
    # when
    with pytest.raises(PaymentProviderError) as caught:
        StripeProvider().charge_saved(payment, "")

    # then
    assert caught.value.code == "no_saved_payment_method"
    assert stripe.requests == []


def test_a_wrong_secret_key_is_a_clear_error(stripe, payment, settings):
    # given
    settings.STRIPE_SECRET_KEY = "sk_test_revoked"

    # when
    with pytest.raises(PaymentProviderError) as caught:
        StripeProvider().charge_saved(payment, "cus_123/pm_456")

    # then
    assert caught.value.message == "Stripe refused the request: Invalid API Key provided."
    assert stripe.intents == {}


# --- webhook verification ---------------------------------------------------------------------


def _event_body(**obj) -> bytes:
    data = {
        "id": "cs_1",
        "object": "checkout.session",
        "amount_total": 500,
        "currency": "usd",
        "payment_status": "paid",
        "client_reference_id": "p-1",
        "metadata": {"account_id": "a-1"},
        **obj,
    }
    return json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": data}}).encode()


def test_a_correctly_signed_event_is_read(stripe):
    # given
    body = _event_body()

    # when
    event = StripeProvider().verify_webhook(body, {"stripe-signature": stripe.sign(body)})

    # then
    assert event == ProviderEvent(
        event_id="evt_1", type="checkout.session.completed", provider_ref="cs_1", amount=Decimal("5.00"),
        currency="USD", status="succeeded", raw=json.loads(body), subject="payment",
        metadata={"account_id": "a-1", "payment_id": "p-1"},
    )  # fmt: skip


def test_any_of_several_v1_signatures_may_match_while_a_secret_is_rolled(stripe):
    # given
    body = _event_body()
    now = int(time.time())
    old = compute_signature("whsec_old", body, now)
    new = compute_signature(stripe.webhook_secret, body, now)

    # when
    event = StripeProvider().verify_webhook(body, {"Stripe-Signature": f"t={now},v1={old},v1={new},v0=ignored"})

    # then
    assert event.event_id == "evt_1"


@pytest.mark.parametrize(("age", "accepted"), [(-299, True), (299, True), (301, False), (-302, False)])
def test_the_replay_window_is_the_configured_tolerance(stripe, age, accepted):
    # given
    body = _event_body()
    header = stripe.sign(body, timestamp=int(time.time()) - age)

    # when
    try:
        StripeProvider().verify_webhook(body, {"Stripe-Signature": header})
        outcome = True
    except WebhookRejected as exc:
        outcome = exc.code

    # then
    assert outcome == (True if accepted else "stale_signature")


def test_a_signature_only_the_scheme_v0_carries_is_rejected(stripe):
    # given: v0 is Stripe's test-mode scheme; only v1 counts
    body = _event_body()
    now = int(time.time())

    # when
    with pytest.raises(WebhookRejected) as caught:
        StripeProvider().verify_webhook(
            body, {"Stripe-Signature": f"t={now},v0={compute_signature(stripe.webhook_secret, body, now)}"}
        )

    # then
    assert caught.value.message == "The signature header is malformed: it needs t=<timestamp> and v1=<signature>."


@pytest.mark.parametrize(
    ("event_type", "obj", "expected"),
    [
        ("payment_intent.succeeded", {"id": "pi_1", "amount": 500, "amount_received": 500, "currency": "usd"},
         ("pi_1", Decimal("5.00"), "succeeded", "payment", "")),
        ("payment_intent.payment_failed",
         {"id": "pi_1", "amount": 500, "currency": "usd", "last_payment_error": {"message": "Insufficient funds."}},
         ("pi_1", Decimal("5.00"), "failed", "payment", "Insufficient funds.")),
        ("checkout.session.expired", {"id": "cs_1", "amount_total": 500, "currency": "usd"},
         ("cs_1", Decimal("5.00"), "expired", "payment", "")),
        ("invoice.paid", {"id": "in_1", "subscription": "sub_1", "amount_paid": 2900, "currency": "usd"},
         ("in_1", Decimal("29.00"), "active", "subscription", "")),
        ("invoice.payment_failed",
         {"id": "in_1", "parent": {"subscription_details": {"subscription": "sub_2"}}, "amount_due": 2900,
          "currency": "usd"},
         ("in_1", Decimal("29.00"), "past_due", "subscription", "")),
        ("customer.created", {"id": "cus_1"}, ("cus_1", None, "", "", "")),
    ],
)  # fmt: skip
def test_events_are_read_into_what_they_say_about_payments_and_subscriptions(event_type, obj, expected):
    # given
    body = json.dumps({"id": "evt_1", "type": event_type, "data": {"object": obj}}).encode()

    # when
    event = parse_event(body)

    # then
    assert (event.provider_ref, event.amount, event.status, event.subject, event.failure_message) == expected


def test_subscription_events_name_the_subscription_its_period_and_our_metadata():
    invoice = {
        "id": "in_7", "object": "invoice", "customer": "cus_7", "amount_paid": 14900, "currency": "usd",
        "billing_reason": "subscription_cycle",
        "parent": {"subscription_details": {"subscription": "sub_7", "metadata": {"plan": "agency"}}},
        "lines": {"data": [{"period": {"start": 1700000000, "end": 1702592000}}]},
    }  # fmt: skip
    event = parse_event(json.dumps({"id": "evt_7", "type": "invoice.paid", "data": {"object": invoice}}).encode())
    assert (event.provider_ref, event.subscription_ref, event.customer_ref, event.billing_reason) == (
        "in_7", "sub_7", "cus_7", "subscription_cycle",
    )  # fmt: skip
    assert (event.period_start, event.period_end, event.metadata["plan"]) == (1700000000, 1702592000, "agency")
    one_off = parse_event(json.dumps({"id": "evt_8", "type": "invoice.paid", "data": {"object": {
        "id": "in_8", "amount_paid": 100, "currency": "usd"}}}).encode())  # fmt: skip
    assert (one_off.status, one_off.subject) == ("", "")
    ended = parse_event(json.dumps({"id": "evt_9", "type": "customer.subscription.deleted", "data": {"object": {
        "id": "sub_7", "status": "canceled", "cancel_at_period_end": False}}}).encode())  # fmt: skip
    assert (ended.subscription_ref, ended.status, ended.subscription_status) == ("sub_7", "ended", "canceled")
