"""Automatic top-ups (Lago's two kinds): below a threshold, and every N days."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import InvalidInput
from billing.models import CreditTransaction, Payment, TopUpRule, Wallet
from billing.services.top_ups import top_up_rule_disable, top_up_rule_save, top_ups_recurring_run
from billing.tasks import top_up_check, top_ups_recurring
from tests.billing.factories import CreditPackFactory, PaymentFactory, fund, spend, wallet
from tests.support.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def pack(db):
    return CreditPackFactory(code="starter", name="Starter", credits=D("500"), price=D("5.00"))


@pytest.fixture
def stripe(settings):
    fake = FakeStripe().start().use_in(settings)
    yield fake
    fake.stop()


def money(account):
    with rls_bypass("test: snapshot"):
        return {
            "balance": wallet(account).balance,
            "ledger": sorted(CreditTransaction.objects.filter(account=account).values_list("type", "amount")),
            "payments": list(Payment.objects.filter(account=account).values_list("kind", "status", "provider_ref")),
        }


def rules(account):
    with account_context(account.id):
        return list(TopUpRule.objects.values_list("kind", "enabled", "threshold", "interval_days"))


def top_up_below(account):
    with account_context(account.id):
        return Wallet.objects.values_list("auto_top_up_below", flat=True).get(account=account)


# --- saving rules -----------------------------------------------------------------------------


def test_a_threshold_rule_is_copied_into_the_wallet(tenants, pack):
    # given
    other_before = wallet(tenants.b).auto_top_up_below

    # when
    first = top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")
    again = top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="80.5")

    # then
    assert again.pk == first.pk
    assert rules(tenants.a) == [("threshold", True, D("80.5"), None)]
    assert top_up_below(tenants.a) == D("80.5")
    assert wallet(tenants.b).auto_top_up_below == other_before


def test_disabling_a_threshold_rule_clears_the_wallet(tenants, pack):
    # given
    rule = top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")

    # when
    disabled = top_up_rule_disable(account=tenants.a, actor=tenants.alice, rule=rule)

    # then
    assert disabled.enabled is False
    assert rules(tenants.a) == [("threshold", False, D("50"), None)]
    assert top_up_below(tenants.a) is None


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"kind": "weekly"}, {"kind": ["Choose threshold or recurring."]}),
        ({"threshold": None}, {"threshold": ["This field is required."]}),
        ({"threshold": "-5"}, {"threshold": ["Enter an amount above zero."]}),
        ({"threshold": "0"}, {"threshold": ["Enter an amount above zero."]}),
        ({"threshold": "1.00001"}, {"threshold": ["Use at most 4 decimal places."]}),
        ({"threshold": "lots"}, {"threshold": ["Enter a number, e.g. 12.5."]}),
        *(
            (
                {"kind": "recurring", "interval_days": days},
                {"interval_days": ["Enter a whole number of days from 1 to 366."]},
            )
            for days in (None, 0, 367, "abc", 1.5, True)
        ),
        ({"pack": "retired"}, {"pack": ["Choose an available pack."]}),
    ],
)
def test_an_invalid_rule_is_refused_and_nothing_is_written(tenants, pack, changes, fields):
    # given
    fund(tenants.a, "100")
    below_before = top_up_below(tenants.a)
    arguments = {"kind": "threshold", "pack": pack, "threshold": "50", **changes}
    if arguments["pack"] == "retired":
        arguments["pack"] = CreditPackFactory(code="retired", is_active=False)

    # when
    with pytest.raises(InvalidInput) as caught:
        top_up_rule_save(account=tenants.a, actor=tenants.alice, **arguments)

    # then
    assert caught.value.fields == fields
    assert rules(tenants.a) == []
    assert top_up_below(tenants.a) == below_before


def test_stripe_rules_need_a_saved_card(tenants, pack, stripe):
    # when
    with pytest.raises(InvalidInput) as caught:
        top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")

    # then
    assert caught.value.message == (
        "Automatic top-ups charge the card saved with a purchase: buy credits once by checkout first, "
        "then set up automatic top-ups."
    )
    assert caught.value.fields == {"payment_method": ["No saved card."]}
    assert rules(tenants.a) == []


# --- threshold rules --------------------------------------------------------------------------


def test_a_debit_that_crosses_the_threshold_buys_exactly_one_pack(tenants, pack, django_capture_on_commit_callbacks):
    # given
    fund(tenants.a, "100")
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "60")
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "30")  # 510 left: above the threshold again

    # then
    state = money(tenants.a)
    assert state["balance"] == D("510")
    assert state["ledger"] == [("bonus", D("100")), ("top_up", D("500")), ("use", D("-60")), ("use", D("-30"))]
    [(kind, status, ref)] = state["payments"]
    assert (kind, status, ref.startswith("dev_pi_")) == ("auto_top_up", "succeeded", True)
    with account_context(tenants.a.id):
        rule = TopUpRule.objects.get()
    assert rule.last_run_at is not None and rule.last_error == ""


def test_a_debit_that_stays_above_the_threshold_buys_nothing(tenants, pack, django_capture_on_commit_callbacks):
    # given
    fund(tenants.a, "100")
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "50")  # 50 left: not below 50

    # then
    assert money(tenants.a) == {"balance": D("50"), "ledger": [("bonus", D("100")), ("use", D("-50"))], "payments": []}


def test_a_disabled_threshold_rule_buys_nothing(tenants, pack, django_capture_on_commit_callbacks):
    # given
    fund(tenants.a, "100")
    rule = top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50")
    top_up_rule_disable(account=tenants.a, actor=tenants.alice, rule=rule)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "90")

    # then
    assert money(tenants.a)["payments"] == []
    assert money(tenants.a)["balance"] == D("10")


def test_a_stripe_top_up_waits_for_its_webhook_and_a_burst_of_debits_charges_once(
    client, tenants, pack, stripe, django_capture_on_commit_callbacks
):
    # given
    stripe.intent_status = "processing"
    fund(tenants.a, "100")
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50",
                     payment_method_ref="cus_1/pm_1")  # fmt: skip

    # when
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "60")
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "10")
    waiting = money(tenants.a)
    intent = stripe.intents["pi_test_0001"]
    response = stripe.deliver(client, stripe.intent_event("payment_intent.succeeded", intent, amount_received=500))

    # then
    assert [r.path for r in stripe.requests] == ["/v1/payment_intents"]
    assert waiting["payments"] == [("auto_top_up", "pending", "pi_test_0001")]
    assert waiting["balance"] == D("30")
    assert response.status_code == 200
    assert money(tenants.a)["payments"] == [("auto_top_up", "succeeded", "pi_test_0001")]
    assert money(tenants.a)["balance"] == D("530")


def test_a_declined_card_fails_the_top_up_and_is_not_retried_at_once(
    tenants, pack, stripe, django_capture_on_commit_callbacks
):
    # given
    stripe.decline("Your card was declined.")
    fund(tenants.a, "100")
    top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="threshold", pack=pack, threshold="50",
                     payment_method_ref="cus_1/pm_1")  # fmt: skip

    # when
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "60")
    with django_capture_on_commit_callbacks(execute=True):
        spend(tenants.a, "10")

    # then
    assert len(stripe.requests) == 1
    assert money(tenants.a) == {
        "balance": D("30"),
        "ledger": [("bonus", D("100")), ("use", D("-60")), ("use", D("-10"))],
        "payments": [("auto_top_up", "failed", "pi_test_0001")],
    }
    with account_context(tenants.a.id):
        assert TopUpRule.objects.get().last_error == "Stripe refused the request: Your card was declined."
        assert Payment.objects.get().failure_reason == "Stripe refused the request: Your card was declined."


def test_a_webhook_that_overtakes_the_saving_of_its_intent_still_credits(client, tenants, pack, stripe):
    # given: the charge went through, its intent id not yet saved on our side
    payment = PaymentFactory(account=tenants.a, pack=pack, kind="auto_top_up", provider="stripe", provider_ref=None)
    metadata = {"account_id": str(tenants.a.id), "payment_id": str(payment.pk)}
    intent = {"id": "pi_live_1", "object": "payment_intent", "amount": 500, "amount_received": 500, "currency": "usd",
              "status": "succeeded", "metadata": metadata}  # fmt: skip

    # when
    response = stripe.deliver(client, stripe.intent_event("payment_intent.succeeded", intent))

    # then
    assert response.status_code == 200
    assert money(tenants.a)["payments"] == [("auto_top_up", "succeeded", "pi_live_1")]
    assert money(tenants.a)["balance"] == D("500")


def test_the_check_task_returns_quietly_without_a_rule(tenants):
    # given
    before = money(tenants.a)

    # when
    top_up_check.delay(account_id=str(tenants.a.id))

    # then
    assert money(tenants.a) == before


# --- recurring rules --------------------------------------------------------------------------


def _recurring(account, actor, pack, days=7):
    rule = top_up_rule_save(account=account, actor=actor, kind="recurring", pack=pack, interval_days=days)
    return rule.next_run_at


def test_a_recurring_rule_runs_once_per_interval(tenants, pack):
    # given
    start = _recurring(tenants.a, tenants.alice, pack)

    # when
    first = top_ups_recurring_run(now=start + timedelta(minutes=1))
    same_interval = top_ups_recurring_run(now=start + timedelta(days=6))
    second = top_ups_recurring_run(now=start + timedelta(days=7, minutes=1))

    # then
    assert (first, same_interval, second) == (1, 0, 1)
    assert money(tenants.a)["balance"] == D("1000")
    assert [p[:2] for p in money(tenants.a)["payments"]] == [("auto_top_up", "succeeded")] * 2
    with account_context(tenants.a.id):
        rule = TopUpRule.objects.get()
    assert rule.next_run_at == start + timedelta(days=14)
    assert rule.last_run_at == start + timedelta(days=7, minutes=1)


def test_a_beat_that_was_down_for_weeks_buys_one_pack(tenants, pack):
    # given
    start = _recurring(tenants.a, tenants.alice, pack)

    # when
    charged = top_ups_recurring_run(now=start + timedelta(days=22))

    # then
    assert charged == 1
    assert money(tenants.a)["balance"] == D("500")
    with account_context(tenants.a.id):
        assert TopUpRule.objects.get().next_run_at == start + timedelta(days=28)


def test_recurring_rules_of_every_account_run_each_in_its_own_account(tenants, pack):
    # given
    start = _recurring(tenants.a, tenants.alice, pack)
    _recurring(tenants.b, tenants.carol, CreditPackFactory(code="big", credits=D("2000"), price=D("15.00")), days=30)

    # when
    charged = top_ups_recurring.delay().get()

    # then
    assert charged == 2
    assert (money(tenants.a)["balance"], money(tenants.b)["balance"]) == (D("500"), D("2000"))
    with account_context(tenants.a.id):
        assert TopUpRule.objects.get().next_run_at > start


def test_a_failed_recurring_charge_is_recorded_and_waits_for_the_next_interval(tenants, pack, stripe):
    # given
    stripe.decline("Your card has expired.")
    start = top_up_rule_save(account=tenants.a, actor=tenants.alice, kind="recurring", pack=pack, interval_days=7,
                             payment_method_ref="cus_1/pm_1").next_run_at  # fmt: skip

    # when
    charged = top_ups_recurring_run(now=start + timedelta(minutes=1))
    again = top_ups_recurring_run(now=start + timedelta(hours=2))

    # then
    assert (charged, again) == (1, 0)
    assert len(stripe.requests) == 1
    assert money(tenants.a)["balance"] == D("0")
    with account_context(tenants.a.id):
        rule = TopUpRule.objects.get()
    assert rule.last_error == "Stripe refused the request: Your card has expired."
    assert rule.next_run_at == start + timedelta(days=7)


def test_a_recurring_rule_whose_pack_was_retired_records_why_and_charges_nothing(tenants, pack):
    # given
    start = _recurring(tenants.a, tenants.alice, pack)
    pack.is_active = False
    pack.save()

    # when
    charged = top_ups_recurring_run(now=start + timedelta(minutes=1))

    # then
    assert charged == 0
    assert money(tenants.a)["payments"] == []
    with account_context(tenants.a.id):
        assert TopUpRule.objects.get().last_error == "The pack Starter is no longer sold; choose another."
