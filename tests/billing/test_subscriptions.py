"""Plans are paid for: a paid plan starts, renews and changes only with the payment
provider's paid invoice (Stripe against the loopback fake, the dev provider through
the same verified webhook path); grants are keyed by the invoice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, User
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Forbidden, InvalidInput
from billing.models import CreditTransaction, Payment, Plan, PlanChange, Subscription, Wallet, WebhookEvent
from billing.providers.base import PaymentProviderError
from billing.services.subscriptions import (
    subscription_cancel,
    subscription_change,
    subscription_comp,
    subscription_for,
    subscriptions_renew,
)
from tests.support.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(settings):
    fake = FakeStripe().start().use_in(settings)
    yield fake
    fake.stop()


def _grants(account):
    with account_context(account.id):
        return list(
            CreditTransaction.objects.filter(account=account, type="grant")
            .order_by("created_at")
            .values_list("amount", flat=True)
        )


def _balance(account):
    with account_context(account.id):
        return Wallet.objects.get(account=account).balance


def _sub(account):
    with account_context(account.id):
        return Subscription.objects.select_related("plan", "scheduled_plan").get(account=account)


def _state(account):
    sub = _sub(account)
    with account_context(account.id):
        status = Account.objects.values_list("subscription_status", flat=True).get(pk=account.pk)
    return (sub.plan.code, sub.status, status)


def _subscribe(client, stripe, tenants, plan="agency", *, order=("checkout", "invoice")):
    """Alice picks `plan`; Stripe's checkout is paid; its events arrive in `order`."""
    result = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code=plan)
    session_id = result.payment.provider_ref
    completed, invoice = stripe.subscription_checkout_paid(session_id)
    for name in order:
        response = stripe.deliver(client, completed if name == "checkout" else invoice)
        assert response.status_code == 200
    return result


def _use_trial(account):
    """The account already had its one trial."""
    with account_context(account.id):
        Subscription.objects.filter(account=account).update(trial_used_at=timezone.now() - timedelta(days=400))


def _stripe_posts(stripe, path_start):
    return [r.form for r in stripe.requests if r.method == "POST" and r.path.startswith(path_start)]


# --- starting a plan ----------------------------------------------------------------------------


def test_a_new_account_starts_on_the_free_plan_with_its_credits(tenants):
    # when the subscription is first read
    sub = subscription_for(tenants.a)
    # then the free plan is active and its monthly credits were granted once
    assert (sub.plan.code, sub.status, sub.provider) == ("free", "active", "")
    assert _grants(tenants.a) == [Decimal("100.0000")]
    subscription_for(tenants.a)
    assert _grants(tenants.a) == [Decimal("100.0000")]


def test_a_paid_plan_opens_a_subscription_checkout_and_changes_nothing_until_paid(tenants, stripe):
    subscription_for(tenants.a)
    # when alice (owner) asks for the business plan
    result = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="business")
    # then Stripe Checkout opened in subscription mode, with the plan's monthly price and the one trial
    assert (result.outcome, result.checkout_url) == ("checkout", f"{stripe.url}/c/pay/cs_test_0001")
    [form] = _stripe_posts(stripe, "/v1/checkout/sessions")
    assert form["mode"] == "subscription"
    assert form["line_items[0][price_data][unit_amount]"] == "4900"
    assert form["line_items[0][price_data][recurring][interval]"] == "month"
    assert form["subscription_data[trial_period_days]"] == "14"
    assert form["subscription_data[metadata][plan]"] == "business"
    assert form["subscription_data[metadata][payment_id]"] == str(result.payment.id)
    # and the account is still on Free with its 100 credits; the checkout is a pending payment
    assert _state(tenants.a) == ("free", "active", "active")
    assert _balance(tenants.a) == Decimal("100")
    with account_context(tenants.a.id):
        assert list(Payment.objects.values_list("kind", "plan__code", "status", "credits")) == [
            ("subscription", "business", "pending", Decimal("0"))
        ]


def test_switching_free_and_agency_without_paying_farms_nothing(tenants, stripe):
    subscription_for(tenants.a)
    # when alice switches agency <-> free five times and never pays
    for _ in range(5):
        subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="agency")
        subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="free")
    # then the balance is the free plan's grant, nothing else, and the account is on Free
    assert _grants(tenants.a) == [Decimal("100.0000")]
    assert _balance(tenants.a) == Decimal("100")
    assert _state(tenants.a) == ("free", "active", "active")


@pytest.mark.parametrize("order", [("checkout", "invoice"), ("invoice", "checkout")])
def test_a_paid_checkout_starts_the_plan_with_the_providers_subscription_id(client, tenants, stripe, order):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    # when agency is paid at Stripe, whichever event arrives first
    _subscribe(client, stripe, tenants, "agency", order=order)
    # then the plan runs on Stripe's subscription, and its paid period is granted once
    sub = _sub(tenants.a)
    assert (sub.provider, sub.provider_subscription_id) == ("stripe", "sub_test_0001")
    assert _state(tenants.a) == ("agency", "active", "active")
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("20000.0000")]
    with account_context(tenants.a.id):
        assert Account.objects.get(pk=tenants.a.pk).user_limit == 50
        assert list(Payment.objects.values_list("status", flat=True)) == ["succeeded"]


def test_one_trial_per_account_ever(client, tenants, stripe):
    subscription_for(tenants.a)
    # given agency started with its trial (the zero invoice grants nothing), then ended
    _subscribe(client, stripe, tenants, "agency")
    assert _state(tenants.a) == ("agency", "trialing", "trialing")
    assert _grants(tenants.a) == [Decimal("100.0000")]
    stripe.deliver(client, stripe.subscription_event("customer.subscription.deleted", "sub_test_0001"))
    assert _state(tenants.a)[0] == "free"
    # when alice subscribes again
    subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="agency")
    # then the second checkout offers no trial
    first, second = _stripe_posts(stripe, "/v1/checkout/sessions")
    assert first["subscription_data[trial_period_days]"] == "14"
    assert "subscription_data[trial_period_days]" not in second


# --- renewals, payments that fail, the end ---------------------------------------------------------


def test_switch_loop_with_payments_grants_only_the_paid_periods(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "agency")
    # when alice switches to free and back to agency three times within the period
    for _ in range(3):
        assert subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="free").outcome == (
            "scheduled"
        )
        assert subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="agency").outcome == (
            "resumed"
        )
    # then Stripe was told to cancel at period end and then not to, and nothing was granted
    cancels = [f["cancel_at_period_end"] for f in _stripe_posts(stripe, "/v1/subscriptions/sub_test_0001")]
    assert cancels == ["true", "false"] * 3
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("20000.0000")]
    # when the next period is paid (twice delivered)
    renewal = stripe.invoice_paid("sub_test_0001")
    stripe.deliver(client, renewal)
    stripe.deliver(client, renewal)
    # then the balance is the grants of the periods actually paid
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("20000.0000"), Decimal("20000.0000")]
    assert _balance(tenants.a) == Decimal("40100")
    assert (
        _sub(tenants.a).current_period_start.timestamp()
        == stripe.subscriptions["sub_test_0001"]["current_period_start"]
    )


def test_a_failed_payment_makes_the_plan_past_due_and_paying_restores_it(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "creator")
    # when Stripe cannot collect the next period
    stripe.deliver(client, stripe.invoice_failed("sub_test_0001"))
    # then the plan is past due and nothing is granted
    assert _state(tenants.a) == ("creator", "past_due", "past_due")
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000")]
    # when the retry succeeds
    stripe.deliver(client, stripe.invoice_paid("sub_test_0001"))
    assert _state(tenants.a) == ("creator", "active", "active")
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000"), Decimal("2000.0000")]


def test_events_of_an_unknown_subscription_change_nothing(client, tenants, stripe):
    subscription_for(tenants.a)
    # when Stripe reports a paid invoice of a subscription no account has
    response = stripe.deliver(client, stripe.invoice_event("invoice.paid", "sub_unknown"))
    # then it is recorded and ignored
    assert response.status_code == 200
    assert _state(tenants.a) == ("free", "active", "active")
    assert _grants(tenants.a) == [Decimal("100.0000")]
    assert list(WebhookEvent.objects.values_list("account_ref", "error")) == [
        (None, "ignored: no subscription matches sub_unknown")
    ]


def test_cancelling_ends_the_plan_when_the_provider_ends_the_subscription(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "creator")
    with pytest.raises(Forbidden):
        subscription_cancel(account=tenants.a, actor=tenants.bob_membership)
    # when the owner cancels
    sub = subscription_cancel(account=tenants.a, actor=tenants.alice_membership)
    # then the plan runs to the period end, and Stripe was told so
    assert (sub.cancel_at_period_end, sub.scheduled_plan.code, sub.plan.code) == (True, "free", "creator")
    assert stripe.subscriptions["sub_test_0001"]["cancel_at_period_end"] is True
    # when Stripe ends the subscription at the period end
    stripe.deliver(client, stripe.subscription_event("customer.subscription.deleted", "sub_test_0001"))
    # then the account is back on Free (a new free period, granted)
    sub = _sub(tenants.a)
    assert (sub.plan.code, sub.provider, sub.provider_subscription_id) == ("free", "", "")
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000"), Decimal("100.0000")]


def test_the_providers_subscription_update_mirrors_cancel_at_period_end(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "creator")
    # when the customer cancels in Stripe's portal
    stripe.subscriptions["sub_test_0001"]["cancel_at_period_end"] = True
    stripe.deliver(client, stripe.subscription_event("customer.subscription.updated", "sub_test_0001"))
    # then the plan ends at the period end here too
    sub = _sub(tenants.a)
    assert (sub.plan.code, sub.cancel_at_period_end, sub.scheduled_plan.code) == ("creator", True, "free")


# --- upgrades and downgrades -------------------------------------------------------------------


def test_an_upgrade_takes_effect_when_its_prorated_invoice_is_paid(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "creator")
    # when alice upgrades to business
    result = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="business")
    # then Stripe was asked for an immediate prorated invoice, and the plan waits for its payment
    update = _stripe_posts(stripe, "/v1/subscriptions/sub_test_0001")[-1]
    assert (update["proration_behavior"], update["payment_behavior"]) == ("always_invoice", "error_if_incomplete")
    assert (update["items[0][id]"], update["items[0][price_data][unit_amount]"]) == ("si_test_0001", "4900")
    assert result.outcome == "upgrade_requested"
    assert _state(tenants.a)[0] == "creator"
    # when the prorated invoice is paid (and redelivered)
    [invoice] = stripe.pending_invoices
    event = stripe.event("invoice.paid", invoice)
    stripe.deliver(client, event)
    stripe.deliver(client, event)
    # then business applies and the period is topped up to business's credits, once
    assert _state(tenants.a) == ("business", "active", "active")
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000"), Decimal("4000.0000")]
    with account_context(tenants.a.id):
        assert PlanChange.objects.filter(kind="paid", to_plan__code="business").count() == 1


def test_a_declined_upgrade_changes_nothing(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "creator")
    before = (_state(tenants.a), _grants(tenants.a))
    stripe.decline("Your card was declined.")
    # when alice upgrades and the card is declined
    with pytest.raises(PaymentProviderError) as err:
        subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="agency")
    # then she is told, and nothing changed
    assert (err.value.status, err.value.code) == (502, "payment_declined")
    assert (_state(tenants.a), _grants(tenants.a)) == before
    assert stripe.pending_invoices == []


def test_a_downgrade_waits_for_the_period_end(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "business")
    # when alice downgrades to creator
    result = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="creator")
    # then Stripe bills the lower price from the next period, and business runs on
    update = _stripe_posts(stripe, "/v1/subscriptions/sub_test_0001")[-1]
    assert (update["proration_behavior"], update["metadata[plan]"]) == ("none", "creator")
    assert (result.outcome, _sub(tenants.a).scheduled_plan.code) == ("scheduled", "creator")
    assert _state(tenants.a)[0] == "business"
    # when the next period's invoice is paid
    stripe.deliver(client, stripe.invoice_paid("sub_test_0001"))
    # then creator applies, with its credits for that period
    sub = _sub(tenants.a)
    assert (sub.plan.code, sub.scheduled_plan) == ("creator", None)
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("6000.0000"), Decimal("2000.0000")]


# --- who may, and the operator's comp --------------------------------------------------------------


def test_a_member_cannot_change_the_plan(tenants, stripe):
    subscription_for(tenants.a)
    with pytest.raises(Forbidden):
        subscription_change(account=tenants.a, actor=tenants.bob_membership, plan_code="agency")
    assert _state(tenants.a) == ("free", "active", "active")
    assert stripe.requests == []


def test_an_unknown_plan_is_a_validation_error(tenants):
    with pytest.raises(InvalidInput):
        subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="platinum")


def test_an_operator_comps_a_plan_with_a_reason_and_it_is_audited(client, tenants):
    subscription_for(tenants.a)
    operator = User.objects.create_superuser(email="ops@example.com", password="pw-123456789")
    client.force_login(operator)
    sub = _sub(tenants.a)
    url = f"/admin/billing/subscription/{sub.pk}/comp/"
    agency = Plan.objects.get(code="agency")
    # when the operator submits no reason
    refused = client.post(url, {"plan": agency.pk, "reason": ""})
    # then nothing changes
    assert refused.status_code == 200
    assert _state(tenants.a)[0] == "free"
    # when they give one
    done = client.post(url, {"plan": agency.pk, "reason": "partner programme"})
    # then agency runs, comped, its credits granted, and the change is on record with who and why
    assert done.status_code == 302
    sub = _sub(tenants.a)
    assert (sub.plan.code, sub.status, sub.provider) == ("agency", "active", "comp")
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("20000.0000")]
    with account_context(tenants.a.id):
        change = PlanChange.objects.get(kind="comp")
    assert (change.to_plan.code, change.actor, change.reason) == ("agency", operator, "partner programme")
    with pytest.raises(InvalidInput):
        subscription_comp(account=tenants.a, plan=agency, operator=operator, reason="  ")


# --- the beat -----------------------------------------------------------------------------------


def _end_period(account, **changes):
    with account_context(account.id):
        Subscription.objects.filter(account=account).update(
            current_period_end=timezone.now() - timedelta(minutes=1), **changes
        )


def test_the_free_plan_renews_and_grants_once_per_period(tenants):
    subscription_for(tenants.a)
    _end_period(tenants.a)
    # when the beat runs twice
    assert subscriptions_renew() == 1
    assert subscriptions_renew() == 0
    # then one new period was granted
    sub = _sub(tenants.a)
    assert sub.current_period_end > timezone.now()
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("100.0000")]


def test_the_beat_leaves_stripe_billed_plans_to_stripe(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "creator")
    _end_period(tenants.a)
    # when the beat runs before Stripe's renewal invoice arrives
    assert subscriptions_renew() == 0
    # then nothing was granted
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000")]


def test_past_due_plans_fall_back_to_free_after_the_grace_period(client, tenants, stripe):
    subscription_for(tenants.a)
    _use_trial(tenants.a)
    _subscribe(client, stripe, tenants, "creator")
    stripe.deliver(client, stripe.invoice_failed("sub_test_0001"))
    _end_period(tenants.a, past_due_since=timezone.now() - timedelta(days=20))
    subscriptions_renew()
    assert _state(tenants.a) == ("free", "active", "active")


def test_the_dev_provider_bills_its_subscriptions_through_signed_events(client, tenants, settings):
    settings.PAYMENT_PROVIDER = "dev"
    subscription_for(tenants.a)
    client.force_login(tenants.alice)
    # given creator subscribed and paid on the dev checkout (a trial: nothing granted yet)
    result = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="creator")
    client.post(f"/billing/dev-checkout/{result.payment.pk}/")
    assert _state(tenants.a) == ("creator", "trialing", "trialing")
    assert _grants(tenants.a) == [Decimal("100.0000")]
    # when the trial period ends and the beat bills it
    _end_period(tenants.a)
    assert subscriptions_renew() == 1
    # then the dev provider's signed invoice made it active and granted the paid period
    assert _state(tenants.a) == ("creator", "active", "active")
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000")]
    with rls_bypass("test: read events"):
        kinds = list(WebhookEvent.objects.order_by("received_at").values_list("provider", "type"))
    assert kinds == [("dev", "checkout.session.completed"), ("dev", "invoice.paid"), ("dev", "invoice.paid")]
    # when alice upgrades: the dev provider charges the prorated difference at once
    upgraded = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="business")
    assert upgraded.outcome == "applied"
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000"), Decimal("4000.0000")]
