"""Automatic top-ups as Lago does them: when the balance falls below a threshold,
or every N days. Each buys one credit pack with the card saved at the provider;
the credit itself arrives through the provider's webhook, like any payment.

Each step commits on its own (payment row, provider call, outcome), so a
provider event that overtakes our bookkeeping still finds its payment, and no
database transaction stays open during a network call.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, User
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, InvalidInput, NotFound
from billing.models import CreditPack, Payment, PaymentCustomer, TopUpRule, Wallet
from billing.providers.base import ChargeStatus, PaymentProvider, PaymentProviderError, get_provider

from .amounts import parse_credits
from .ledger import wallet_for

log = logging.getLogger("billing.top_ups")

MAX_INTERVAL_DAYS = 366
# A pending automatic top-up blocks the next one for this long (then it counts as lost).
PENDING_BLOCKS_FOR = timedelta(days=1)
# After a failed charge, wait before charging the same card again.
RETRY_AFTER_FAILURE = timedelta(hours=1)
NO_SAVED_CARD = (
    "Automatic top-ups charge the card saved with a purchase: buy credits once by checkout first, "
    "then set up automatic top-ups."
)

Kind = TopUpRule.Kind


def _validate(kind: str, pack: CreditPack | None, threshold, interval_days):
    if kind not in Kind.values:
        choices = " or ".join(Kind.values)
        raise InvalidInput(
            gettext("Unknown top-up rule kind '%(kind)s'.") % {"kind": kind}, fields={"kind": [f"Choose {choices}."]}
        )
    if pack is None or not CreditPack.objects.filter(pk=pack.pk, is_active=True).exists():
        raise InvalidInput(
            gettext("This credit pack is not available."), fields={"pack": ["Choose an available pack."]}
        )
    if kind == Kind.THRESHOLD:
        if threshold is None or threshold == "":
            raise InvalidInput(
                gettext("Say below which balance to top up."), fields={"threshold": ["This field is required."]}
            )
        return parse_credits(threshold, field="threshold"), None
    if isinstance(interval_days, bool):
        interval_days = None
    try:
        days = int(interval_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_INTERVAL_DAYS or str(days) != str(interval_days).strip():
        raise InvalidInput(
            gettext("Say every how many days to top up."),
            fields={"interval_days": [f"Enter a whole number of days from 1 to {MAX_INTERVAL_DAYS}."]},
        )
    return None, days


def top_up_rule_save(
    *,
    account: Account,
    actor: User | None,
    kind: str,
    pack: CreditPack,
    threshold=None,
    interval_days=None,
    enabled: bool = True,
    payment_method_ref: str | None = None,
) -> TopUpRule:
    """Create or change the account's rule of this kind (one per kind).

    A threshold rule is copied into Wallet.auto_top_up_below, which the ledger
    reads in the statement of every debit to learn that the balance crossed it.
    A new recurring rule first runs at the next beat.
    """
    threshold, interval_days = _validate(kind, pack, threshold, interval_days)
    provider = get_provider()
    if kind == Kind.THRESHOLD:
        wallet_for(account)
    with account_context(account.id):
        rule = TopUpRule.objects.select_for_update().filter(account=account, kind=kind).first()
        method = payment_method_ref if payment_method_ref is not None else (rule.payment_method_ref if rule else "")
        if enabled and provider.requires_saved_method and not method and not _saved_card(account.id, provider):
            raise InvalidInput(NO_SAVED_CARD, fields={"payment_method": ["No saved card."]})
        if rule is None:
            rule = TopUpRule(account=account, kind=kind, created_by=actor)
        was_running = rule.pk is not None and rule.enabled and rule.interval_days == interval_days
        rule.pack, rule.threshold, rule.interval_days = pack, threshold, interval_days
        rule.enabled, rule.payment_method_ref = enabled, method
        if kind == Kind.RECURRING and enabled and not was_running:
            now = timezone.now()
            rule.next_run_at = rule.last_run_at + timedelta(days=interval_days) if rule.last_run_at else now
        try:
            with transaction.atomic():
                rule.save()
        except IntegrityError:
            raise Conflict(
                gettext("This rule was just saved by someone else; reload and try again."), code="rule_conflict"
            )
        if kind == Kind.THRESHOLD:
            below = threshold if enabled else None
            Wallet.objects.filter(account=account).update(auto_top_up_below=below)
            wallet = Wallet.objects.filter(account=account).values("balance", "reserved").get()
            if below is not None and wallet["balance"] - wallet["reserved"] < below:
                _schedule_check(account.id)  # already below: no debit would notice
    return rule


def top_up_rule_disable(*, account: Account, actor: User | None, rule: TopUpRule) -> TopUpRule:
    with account_context(account.id):
        if not TopUpRule.objects.filter(account=account, pk=rule.pk).update(enabled=False):
            raise NotFound(gettext("No such top-up rule in this account."))
        if rule.kind == Kind.THRESHOLD:
            Wallet.objects.filter(account=account).update(auto_top_up_below=None)
        rule.refresh_from_db()
    return rule


def _saved_card(account_id, provider: PaymentProvider) -> str:
    """The account's card saved at `provider`, as charge_saved takes it; "" without one.

    Call it in the account's context: row-level security keeps other accounts' cards out.
    """
    customer = PaymentCustomer.objects.filter(account_id=account_id, provider=provider.name).first()
    return customer.charge_ref if customer is not None else ""


def _card_for(rule: TopUpRule, provider: PaymentProvider) -> str:
    """The rule's explicit card if it names one, else the account's saved card."""
    return rule.payment_method_ref or _saved_card(rule.account_id, provider)


def _schedule_check(account_id) -> None:
    from billing.tasks import top_up_check

    transaction.on_commit(lambda: top_up_check.delay(account_id=str(account_id)))


def _auto_payment(rule: TopUpRule, provider: PaymentProvider) -> Payment:
    pack = rule.pack
    return Payment.objects.create(
        account_id=rule.account_id, pack=pack, kind=Payment.Kind.AUTO_TOP_UP, credits=pack.credits,
        amount=pack.price, currency=pack.currency.upper(), provider=provider.name, created_by_id=rule.created_by_id,
    )  # fmt: skip


def _record_charge(rule: TopUpRule, payment: Payment, *, provider_ref: str | None, failure: str) -> None:
    with account_context(rule.account_id):
        if provider_ref:
            # The provider's event may have filled it in already.
            Payment.objects.filter(pk=payment.pk, provider_ref__isnull=True).update(provider_ref=provider_ref)
        if failure:
            Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
                status=Payment.Status.FAILED, failure_reason=failure, completed_at=timezone.now()
            )
        TopUpRule.objects.filter(pk=rule.pk).update(last_error=failure)


def _charge(provider: PaymentProvider, rule: TopUpRule, payment: Payment, card: str) -> Payment:
    try:
        result = provider.charge_saved(payment, card)
    except PaymentProviderError as exc:
        log.warning("automatic top-up %s failed: %s", payment.id, exc.message)
        _record_charge(rule, payment, provider_ref=exc.extra.get("provider_ref"), failure=exc.message)
    else:
        failure = (result.message or "The charge failed.") if result.status == ChargeStatus.FAILED else ""
        _record_charge(rule, payment, provider_ref=result.provider_ref, failure=failure)
        if result.webhook is not None and not failure:
            from .payments import webhook_process

            webhook_process(provider_name=provider.name, body=result.webhook.body, headers=result.webhook.headers)
    with account_context(rule.account_id):
        payment.refresh_from_db()
    return payment


def top_up_threshold_run(*, account_id) -> Payment | None:
    """Buy the threshold rule's pack if spendable credits are below its threshold.

    The wallet row lock makes concurrent checks of one account take turns, so a
    burst of debits buys one pack, not one per debit.
    """
    provider = get_provider()
    now = timezone.now()
    with account_context(account_id):
        rule = (
            TopUpRule.objects.select_related("pack")
            .filter(account_id=account_id, kind=Kind.THRESHOLD, enabled=True)
            .first()
        )
        if rule is None or rule.threshold is None:
            return None
        wallet = Wallet.objects.select_for_update().filter(account_id=account_id).first()
        if wallet is None or wallet.balance - wallet.reserved >= rule.threshold:
            return None
        earlier = Payment.objects.filter(account_id=account_id, kind=Payment.Kind.AUTO_TOP_UP)
        if earlier.filter(status=Payment.Status.PENDING, created_at__gte=now - PENDING_BLOCKS_FOR).exists():
            return None
        if earlier.filter(status=Payment.Status.FAILED, created_at__gte=now - RETRY_AFTER_FAILURE).exists():
            return None
        if not rule.pack.is_active:
            TopUpRule.objects.filter(pk=rule.pk).update(last_error=f"The pack {rule.pack.name} is no longer sold.")
            return None
        card = _card_for(rule, provider)
        if provider.requires_saved_method and not card:
            TopUpRule.objects.filter(pk=rule.pk).update(last_error=NO_SAVED_CARD)
            return None
        payment = _auto_payment(rule, provider)
        TopUpRule.objects.filter(pk=rule.pk).update(last_run_at=now)
    return _charge(provider, rule, payment, card)


def _next_run(rule: TopUpRule, now: datetime) -> datetime:
    """The first run after `now`: a beat that was down for weeks still buys one pack."""
    interval = timedelta(days=rule.interval_days)
    return rule.next_run_at + interval * ((now - rule.next_run_at) // interval + 1)


def _recurring_rule_run(provider: PaymentProvider, account_id, rule_id, now: datetime) -> Payment | None:
    with account_context(account_id):
        rule = (
            TopUpRule.objects.select_for_update(of=("self",))
            .select_related("pack")
            .filter(pk=rule_id, kind=Kind.RECURRING, enabled=True, next_run_at__lte=now)
            .first()
        )
        if rule is None:
            return None  # changed, or taken by a concurrent run
        rule.next_run_at = _next_run(rule, now)
        rule.last_run_at = now
        payment = None
        card = _card_for(rule, provider)
        if not rule.pack.is_active:
            rule.last_error = f"The pack {rule.pack.name} is no longer sold; choose another."
        elif provider.requires_saved_method and not card:
            rule.last_error = NO_SAVED_CARD
        else:
            payment = _auto_payment(rule, provider)
        rule.save(update_fields=["next_run_at", "last_run_at", "last_error"])
    return _charge(provider, rule, payment, card) if payment is not None else None


def top_ups_recurring_run(*, now: datetime | None = None) -> int:
    """Celery beat: run every recurring rule that is due, across tenants. Returns the charges attempted."""
    now = now or timezone.now()
    with rls_bypass("recurring top-up rules due"):
        due = list(
            TopUpRule.objects.filter(kind=Kind.RECURRING, enabled=True, next_run_at__lte=now)
            .order_by("next_run_at")
            .values_list("account_id", "id")
        )
    if not due:
        return 0
    provider = get_provider()
    charged = 0
    for account_id, rule_id in due:
        try:
            charged += _recurring_rule_run(provider, account_id, rule_id, now) is not None
        except Exception as exc:  # one tenant's failure must not stop the others
            log.exception("recurring top-up rule %s failed", rule_id)
            with account_context(account_id):
                TopUpRule.objects.filter(pk=rule_id).update(last_error=f"Unexpected error: {type(exc).__name__}")
    return charged
