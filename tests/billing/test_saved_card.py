"""The card a checkout saves, and the automatic top-ups that charge it off-session."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import InvalidInput
from billing.models import CreditTransaction, Payment, PaymentCustomer, TopUpRule
from billing.services.payments import checkout_start
from billing.services.top_ups import top_up_rule_save, top_up_threshold_run, top_ups_recurring_run
from tests.billing.factories import CreditPackFactory, PaymentCustomerFactory, fund, spend, wallet
from tests.support.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

D = Decimal
NO_CARD = (
    "Automatic top-ups charge the card saved with a purchase: buy credits once by checkout first, "
    "then set up automatic top-ups."
)


@pytest.fixture
def stripe(settings):
    fake = FakeStripe().start().use_in(settings)
    yield fake
    fake.stop()


@pytest.fixture
def pack(db):
    return CreditPackFactory(code="starter", name="Starter", credits=D("500"), price=D("5.00"))


def saved_cards():
    with rls_bypass("test: every saved card"):
        return sorted(
            PaymentCustomer.objects.values_list(
                "account_id", "provider", "customer_ref", "payment_method_ref", "card_brand", "card_last4"
            )
        )


def money(account):
    with rls_bypass("test: snapshot"):
        return {
            "balance": wallet(account).balance,
            "ledger": sorted(CreditTransaction.objects.filter(account=account).values_list("type", "amount")),
            "payments": sorted(Payment.objects.filter(account=account).values_list("kind", "status", "provider_ref")),
        }


def buy_once(client, stripe, tenants, pack):
    """Alice buys the pack by Stripe checkout; Stripe reports the session paid."""
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    response = stripe.deliver(client, stripe.checkout_completed(payment.provider_ref))
    assert response.status_code == 200
    return payment


# --- saving the card -----------------------------------------------------------------------------


def test_a_completed_checkout_saves_the_customer_and_card(client, tenants, pack, stripe):
    # when
    buy_once(client, stripe, tenants, pack)

    # then
    assert saved_cards() == [(tenants.a.id, "stripe", "cus_test_0001", "pm_test_0001", "visa", "4242")]
    assert money(tenants.a)["balance"] == D("500")
    checkout, retrieve = stripe.requests
    assert (checkout.form["customer_creation"], checkout.form["payment_intent_data[setup_future_usage]"]) == (
        "always", "off_session",
    )  # fmt: skip
    assert (retrieve.method, retrieve.path) == ("GET", "/v1/payment_intents/pi_test_c0001?expand%5B0%5D=payment_method")


def test_an_event_carrying_the_expanded_intent_needs_no_lookup(client, tenants, pack, stripe):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    event = stripe.checkout_completed(payment.provider_ref)
    intent = stripe.intents["pi_test_c0001"]
    event["data"]["object"]["payment_intent"] = {**intent, "payment_method": stripe.payment_methods["pm_test_0001"]}

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert [r.path for r in stripe.requests] == ["/v1/checkout/sessions"]
    assert saved_cards() == [(tenants.a.id, "stripe", "cus_test_0001", "pm_test_0001", "visa", "4242")]


def test_the_next_checkout_reuses_the_saved_customer_and_replaces_the_card(client, tenants, pack, stripe):
    # given
    buy_once(client, stripe, tenants, pack)
    stripe.card_brand, stripe.card_last4 = "mastercard", "4444"

    # when
    buy_once(client, stripe, tenants, pack)

    # then
    second_checkout = [r for r in stripe.requests if r.path == "/v1/checkout/sessions"][1]
    assert second_checkout.form["customer"] == "cus_test_0001"
    assert "customer_creation" not in second_checkout.form
    assert saved_cards() == [(tenants.a.id, "stripe", "cus_test_0001", "pm_test_0002", "mastercard", "4444")]


def test_a_card_lookup_that_fails_still_credits_the_payment(client, tenants, pack, stripe):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    event = stripe.checkout_completed(payment.provider_ref)
    stripe.fail(500)

    # when
    response = stripe.deliver(client, event)

    # then
    assert response.status_code == 200
    assert money(tenants.a)["balance"] == D("500")
    assert saved_cards() == [(tenants.a.id, "stripe", "cus_test_0001", "", "", "")]


def test_an_unpaid_or_foreign_checkout_saves_no_card(client, tenants, pack, stripe):
    # given
    payment = checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)
    unpaid = stripe.checkout_completed(payment.provider_ref, payment_status="unpaid")
    foreign = stripe.checkout_completed(payment.provider_ref, metadata={"account_id": str(tenants.b.id)})

    # when
    responses = [stripe.deliver(client, unpaid).status_code, stripe.deliver(client, foreign).status_code]

    # then
    assert responses == [200, 200]
    assert saved_cards() == []
    assert money(tenants.a)["balance"] == D("0")


# --- charging it -----------------------------------------------------------------------------------


def test_a_threshold_debit_charges_the_saved_card_off_session_and_credits_once(
    client, tenants, pack, stripe, django_capture_on_commit_callbacks
):
    # given
    buy_once(client, stripe, tenants, pack)  # 500 credits, card saved
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="100")
    stripe.intent_status = "processing"  # the outcome arrives by webhook
    stripe.requests.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "450")
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "10")  # still pending: no second charge
    intent = stripe.intents["pi_test_0002"]
    event = stripe.intent_event("payment_intent.succeeded", intent, status="succeeded", amount_received=500)
    first, again = stripe.deliver(client, event), stripe.deliver(client, event)

    # then
    [charge] = stripe.requests
    assert charge.path == "/v1/payment_intents"
    assert {k: charge.form[k] for k in ("customer", "payment_method", "off_session", "confirm", "amount")} == {
        "customer": "cus_test_0001", "payment_method": "pm_test_0001", "off_session": "true", "confirm": "true",
        "amount": "500",
    }  # fmt: skip
    assert (first.status_code, again.status_code) == (200, 200)
    state = money(tenants.a)
    assert state["balance"] == D("540")
    assert state["ledger"] == [("top_up", D("500")), ("top_up", D("500")), ("use", D("-450")), ("use", D("-10"))]
    assert state["payments"] == [
        ("auto_top_up", "succeeded", "pi_test_0002"),
        ("checkout", "succeeded", "cs_test_0001"),
    ]


def test_a_recurring_rule_charges_the_saved_card(client, tenants, pack, stripe):
    # given
    buy_once(client, stripe, tenants, pack)
    start = top_up_rule_save(
        account=tenants.a, actor=tenants.alice, kind="recurring", pack=pack, interval_days=7
    ).next_run_at
    stripe.requests.clear()

    # when
    charged = top_ups_recurring_run(now=start + timedelta(minutes=1))

    # then
    assert charged == 1
    [charge] = stripe.requests
    assert (charge.form["customer"], charge.form["payment_method"]) == ("cus_test_0001", "pm_test_0001")
    assert ("auto_top_up", "pending", "pi_test_0002") in money(tenants.a)["payments"]


def test_an_explicit_card_on_the_rule_overrides_the_saved_one(tenants, pack, stripe):
    # given
    PaymentCustomerFactory(account=tenants.a, customer_ref="cus_saved", payment_method_ref="pm_saved")
    fund(tenants.a, "10")
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50",
                     payment_method_ref="cus_other/pm_other")  # fmt: skip

    # when
    top_up_threshold_run(account_id=tenants.a.id)

    # then
    [charge] = stripe.requests
    assert (charge.form["customer"], charge.form["payment_method"]) == ("cus_other", "pm_other")


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, setting", [("threshold", {"threshold": "50"}), ("recurring", {"interval_days": 7})])
def test_a_stripe_rule_without_a_saved_card_is_refused(tenants, pack, stripe, kind, setting):
    # when
    with pytest.raises(InvalidInput) as caught:
        top_up_rule_save(account=tenants.a, actor=tenants.alice, kind=kind, pack=pack, **setting)

    # then
    assert (caught.value.message, caught.value.fields) == (NO_CARD, {"payment_method": ["No saved card."]})
    with account_context(tenants.a.id):
        assert not TopUpRule.objects.exists()


def test_the_dev_provider_needs_no_card(tenants, pack, django_capture_on_commit_callbacks):
    # given
    fund(tenants.a, "100")
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "60")

    # then
    assert money(tenants.a)["balance"] == D("540")
    assert saved_cards() == []


def test_another_accounts_card_is_never_used(tenants, pack, stripe, settings):
    # given: B has a card; A has none, but a rule from when the dev provider was configured
    PaymentCustomerFactory(account=tenants.b, customer_ref="cus_b", payment_method_ref="pm_b")
    settings.PAYMENT_PROVIDER = "dev"
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")
    start = top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="recurring", pack=pack,
                             interval_days=7).next_run_at  # fmt: skip
    settings.PAYMENT_PROVIDER = "stripe"

    # when
    with pytest.raises(InvalidInput) as refused:
        top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="60")
    threshold_payment = top_up_threshold_run(account_id=tenants.a.id)
    charged = top_ups_recurring_run(now=start + timedelta(minutes=1))

    # then
    assert refused.value.message == NO_CARD
    assert (threshold_payment, charged) == (None, 0)
    assert stripe.requests == []
    assert money(tenants.a)["payments"] == []
    with account_context(tenants.a.id):
        assert set(TopUpRule.objects.values_list("last_error", flat=True)) == {NO_CARD}
    assert saved_cards() == [(tenants.b.id, "stripe", "cus_b", "pm_b", "visa", "4242")]


def test_a_checkout_does_not_offer_another_accounts_customer(tenants, pack, stripe):
    # given
    PaymentCustomerFactory(account=tenants.b, customer_ref="cus_b", payment_method_ref="pm_b")

    # when
    checkout_start(account=tenants.a, actor=tenants.alice, pack=pack)

    # then
    [request] = stripe.requests
    assert "customer" not in request.form
    assert request.form["customer_creation"] == "always"
