"""Plans and subscriptions: a paid plan starts, renews and changes only when the
payment provider says it was paid.

- The Free plan (and a plan an operator comps) is ours: its periods are rolled by
  the beat (`subscriptions_renew`) and its credits granted once per period.
- A paid plan starts with the provider's subscription checkout
  (`subscription_change` returns its URL). Nothing changes here until the
  provider's verified webhook says so: `invoice.paid` applies the plan the
  invoice names, starts or rolls the period and grants the plan's credits;
  `invoice.payment_failed` makes it past due; `customer.subscription.updated`
  mirrors cancel-at-period-end and the status; `customer.subscription.deleted`
  returns the account to Free. The dev provider sends the same events, signed,
  through the same path.
- Upgrades are invoiced (prorated) at once by the provider and take effect on that
  invoice's payment; downgrades and cancellations take effect at the period end.
- Grants are keyed by the provider's invoice id and top the period up to the
  plan's monthly credits (`Subscription.period_granted`), so no sequence of
  switches grants twice for one period, and nothing is granted for an unpaid
  (or zero-amount trial) invoice.
- One trial per account, ever (`Subscription.trial_used_at`).
- Every change is written to `PlanChange`, with who or which event made it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.actors import Actor, require_role
from accounts.models import Account, Role, User
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, Forbidden, InvalidInput, ServiceError
from billing.models import CreditTransaction, Payment, PaymentCustomer, Plan, PlanChange, Subscription, Wallet
from billing.providers.base import EventStatus, PaymentProviderError, ProviderEvent, get_provider

from .ledger import Reference, wallet_credit, wallet_for

log = logging.getLogger("billing.subscriptions")

DEFAULT_PLAN = "free"
COMP = "comp"
LOCAL_PROVIDERS = ("", COMP)  # periods rolled here, not billed by a provider
PAST_DUE_GRACE = timedelta(days=14)
PLAN_PATH = "/billing/usage/"


@dataclass(frozen=True)
class PlanChangeResult:
    """What asking for a plan did. `checkout_url` is where to pay, when a checkout opened."""

    subscription: Subscription
    outcome: str  # unchanged, checkout, upgrade_requested, applied, scheduled, resumed
    message: str
    checkout_url: str = ""
    payment: Payment | None = None


# --- internals ------------------------------------------------------------------------------


def _apply_plan(account: Account, plan: Plan, status: str) -> None:
    """The account's limit columns are what every service checks."""
    values = {
        "plan_type": plan.plan_type,
        "subscription_status": status,
        "user_limit": plan.user_limit,
        "creator_limit": plan.creator_limit,
        "voice_model_limit": plan.voice_model_limit,
        "storage_limit_gb": plan.storage_limit_gb,
    }
    Account.objects.filter(pk=account.pk).update(**values)
    for field, value in values.items():
        setattr(account, field, value)
    Wallet.objects.filter(account=account).update(tier=plan.code)


def _audit(subscription: Subscription, kind: str, *, from_plan=None, to_plan=None, actor=None, reason: str = "",
           provider: str = "", provider_ref: str = "", credits: Decimal = Decimal("0")) -> None:  # fmt: skip
    PlanChange.objects.create(
        account_id=subscription.account_id, kind=kind, from_plan=from_plan, to_plan=to_plan, actor=actor,
        reason=reason, provider=provider, provider_ref=provider_ref[:255], credits_granted=credits,
    )  # fmt: skip


def _grant(subscription: Subscription, plan: Plan, *, key: str, actor=None) -> Decimal:
    """Top the current period up to `plan`'s monthly credits, once per `key` (the caller
    holds the subscription's row lock). Returns the credits granted."""
    amount = plan.monthly_credits - subscription.period_granted
    if amount <= 0:
        return Decimal("0")
    period = subscription.current_period_start.date()
    wallet_credit(
        account=subscription.account, amount=amount, type=CreditTransaction.Type.GRANT, actor=actor,
        reference=Reference("subscription", str(subscription.id)),
        description=f"{plan.name} plan credits for the period from {period}", idempotency_key=key,
    )  # fmt: skip
    subscription.period_granted += amount
    subscription.last_granted_period = period
    return amount


def _rank(plan: Plan) -> tuple:
    return (plan.monthly_price, plan.monthly_credits, plan.sort_order)


def _free() -> Plan:
    return Plan.objects.get(code=DEFAULT_PLAN)


def _is_billed(subscription: Subscription) -> bool:
    """Paid through a provider's subscription that is still running."""
    return (
        subscription.provider not in LOCAL_PROVIDERS
        and bool(subscription.provider_subscription_id)
        and subscription.status != Subscription.Status.CANCELLED
    )


def _start_local(subscription: Subscription, plan: Plan, *, provider: str, now, actor=None, reason: str = "",
                 kind: str = PlanChange.Kind.STARTED) -> Subscription:  # fmt: skip
    """Put a subscription row on a plan we bill ourselves (Free or comped), from `now`."""
    before = None if subscription._state.adding else subscription.plan
    subscription.plan = plan
    subscription.status = Subscription.Status.ACTIVE
    subscription.current_period_start = now
    subscription.current_period_end = now + relativedelta(months=1)
    subscription.trial_ends_at = None
    subscription.cancel_at_period_end = False
    subscription.past_due_since = None
    subscription.scheduled_plan = None
    subscription.period_granted = Decimal("0")
    subscription.provider, subscription.provider_subscription_id = provider, ""
    subscription.save()
    _apply_plan(subscription.account, plan, subscription.status)
    granted = _grant(subscription, plan, key=f"plan-grant:{subscription.id}:{plan.code}:{now.isoformat()}",
                     actor=actor)  # fmt: skip
    subscription.save(update_fields=["period_granted", "last_granted_period", "updated_at"])
    _audit(subscription, kind, from_plan=before, to_plan=plan, actor=actor, reason=reason, provider=provider,
           credits=granted)  # fmt: skip
    return subscription


def _locked(account_id) -> Subscription:
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "account")
        .get(account_id=account_id)
    )


# --- reading ----------------------------------------------------------------------------------


def subscription_for(account: Account) -> Subscription:
    """The account's subscription; a new account starts on the Free plan (and its credits)."""
    wallet_for(account)
    with account_context(account.id):
        subscription = (
            Subscription.objects.select_related("plan", "account", "scheduled_plan").filter(account=account).first()
        )
        if subscription is None:
            with transaction.atomic():
                subscription = _start_local(Subscription(account=account), _free(), provider="", now=timezone.now())
    return subscription


# --- what owners and admins ask for ------------------------------------------------------------


def subscription_change(
    *,
    account: Account,
    actor: Actor,
    plan_code: str,
    success_url: str | None = None,
    cancel_url: str | None = None,
) -> PlanChangeResult:
    """Ask for `plan_code`. A paid plan from Free opens the provider's checkout; an
    upgrade of a paid subscription is invoiced by the provider and applies on payment;
    a downgrade (Free included) is scheduled for the period end; asking for the
    current plan withdraws a scheduled change."""
    require_role(actor, Role.ADMIN, what="change the plan")
    plan = Plan.objects.filter(code=plan_code, is_active=True).first()
    if plan is None:
        raise InvalidInput(
            gettext("There is no plan '%(plan_code)s'.") % {"plan_code": plan_code},
            fields={"plan": ["Choose an available plan."]},
        )
    current = subscription_for(account)
    if plan.id == current.plan_id and current.status != Subscription.Status.CANCELLED:
        if current.scheduled_plan_id or current.cancel_at_period_end:
            return _resume(account, actor, current)
        return PlanChangeResult(current, "unchanged", f"You are already on the {plan.name} plan.")
    if plan.monthly_price <= 0:
        return _schedule(account, actor, current, plan)
    if not _is_billed(current):
        return _checkout(account, actor, current, plan, success_url, cancel_url)
    if _rank(plan) > _rank(current.plan):
        return _upgrade(account, actor, current, plan)
    return _schedule(account, actor, current, plan)


def subscription_cancel(*, account: Account, actor: Actor) -> Subscription:
    """End the subscription at the period end: the account then returns to Free."""
    require_role(actor, Role.OWNER, what="cancel the subscription")
    current = subscription_for(account)
    if current.plan.code == DEFAULT_PLAN and not current.scheduled_plan_id:
        return current
    return _schedule(account, actor, current, _free()).subscription


def _checkout(account, actor, current, plan, success_url, cancel_url) -> PlanChangeResult:
    provider = get_provider()
    trial = plan.trial_days if current.trial_used_at is None else 0
    with account_context(account.id):
        payment = Payment.objects.create(
            account=account, plan=plan, kind=Payment.Kind.SUBSCRIPTION, credits=Decimal("0"),
            amount=plan.monthly_price, currency=plan.currency.upper(), provider=provider.name, created_by=actor.user,
        )  # fmt: skip
        customer_ref = (
            PaymentCustomer.objects.filter(account=account, provider=provider.name)
            .values_list("customer_ref", flat=True)
            .first()
        )
    base = settings.SITE_URL.rstrip("/") + PLAN_PATH
    try:
        session = provider.create_subscription_checkout(
            payment, plan, success_url or f"{base}?checkout=success", cancel_url or f"{base}?checkout=cancelled",
            trial_days=trial, customer_ref=customer_ref or "",
        )  # fmt: skip
    except PaymentProviderError as exc:
        from .payments import payment_fail

        payment_fail(payment, exc.message)
        raise
    with account_context(account.id), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(provider_ref=session.provider_ref, checkout_url=session.url)
        _audit(current, PlanChange.Kind.CHECKOUT, from_plan=current.plan, to_plan=plan, actor=actor.user,
               provider=provider.name, provider_ref=session.provider_ref)  # fmt: skip
    payment.provider_ref, payment.checkout_url = session.provider_ref, session.url
    note = f" with a {trial}-day trial" if trial else ""
    return PlanChangeResult(
        current, "checkout", f"Complete the payment to start the {plan.name} plan{note}.",
        checkout_url=session.url, payment=payment,
    )  # fmt: skip


def _upgrade(account, actor, current, plan) -> PlanChangeResult:
    provider = get_provider(current.provider)
    webhook = provider.subscription_change_plan(current.provider_subscription_id, plan, upgrade=True)
    with account_context(account.id), transaction.atomic():
        sub = _locked(account.id)
        sub.scheduled_plan, sub.cancel_at_period_end = None, False
        sub.save(update_fields=["scheduled_plan", "cancel_at_period_end", "updated_at"])
        _audit(sub, PlanChange.Kind.UPGRADE_REQUESTED, from_plan=sub.plan, to_plan=plan, actor=actor.user,
               provider=sub.provider, provider_ref=sub.provider_subscription_id)  # fmt: skip
    if webhook is not None:  # a provider that settles at once (dev)
        from .payments import webhook_process

        webhook_process(provider_name=provider.name, body=webhook.body, headers=webhook.headers)
    sub = subscription_for(account)
    if sub.plan_id == plan.id:
        return PlanChangeResult(sub, "applied", f"You are now on the {plan.name} plan.")
    return PlanChangeResult(
        sub, "upgrade_requested",
        f"The upgrade to {plan.name} was sent to the payment provider; it applies as soon as the payment is confirmed.",
    )  # fmt: skip


def _schedule(account, actor, current, plan) -> PlanChangeResult:
    """Downgrade (or cancel, to Free) at the period end."""
    to_free = plan.monthly_price <= 0
    if _is_billed(current):
        provider = get_provider(current.provider)
        if to_free:
            provider.subscription_set_cancel(current.provider_subscription_id, cancel=True)
        else:
            provider.subscription_change_plan(current.provider_subscription_id, plan, upgrade=False)
    with account_context(account.id), transaction.atomic():
        sub = _locked(account.id)
        sub.scheduled_plan, sub.cancel_at_period_end = plan, to_free
        sub.save(update_fields=["scheduled_plan", "cancel_at_period_end", "updated_at"])
        _audit(sub, PlanChange.Kind.SCHEDULED, from_plan=sub.plan, to_plan=plan, actor=actor.user,
               provider=sub.provider, provider_ref=sub.provider_subscription_id)  # fmt: skip
    return PlanChangeResult(
        sub, "scheduled", f"The {plan.name} plan starts when this period ends, on {sub.current_period_end:%Y-%m-%d}."
    )


def _resume(account, actor, current) -> PlanChangeResult:
    if _is_billed(current):
        provider = get_provider(current.provider)
        if current.cancel_at_period_end:
            provider.subscription_set_cancel(current.provider_subscription_id, cancel=False)
        if current.scheduled_plan_id and current.scheduled_plan.monthly_price > 0:
            provider.subscription_change_plan(current.provider_subscription_id, current.plan, upgrade=False)
    with account_context(account.id), transaction.atomic():
        sub = _locked(account.id)
        was = sub.scheduled_plan
        sub.scheduled_plan, sub.cancel_at_period_end = None, False
        sub.save(update_fields=["scheduled_plan", "cancel_at_period_end", "updated_at"])
        _audit(sub, PlanChange.Kind.RESUMED, from_plan=was, to_plan=sub.plan, actor=actor.user,
               provider=sub.provider, provider_ref=sub.provider_subscription_id)  # fmt: skip
    return PlanChangeResult(sub, "resumed", f"You stay on the {sub.plan.name} plan.")


def subscription_comp(*, account: Account, plan: Plan, operator: User | None, reason: str) -> Subscription:
    """An operator gives `plan` without payment, from now (audited with the reason).
    `operator` None is a management command (demo data)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("Say why this plan is comped."), fields={"reason": ["A reason is required."]})
    if operator is not None and not (operator.is_staff or operator.is_superuser):
        raise Forbidden(gettext("Only platform staff can comp a plan."))
    current = subscription_for(account)
    if _is_billed(current):
        raise Conflict(
            gettext("This account pays for its plan through %(provider)s: cancel that subscription first.")
            % {"provider": current.provider},
            code="subscription_billed",
        )
    with account_context(account.id), transaction.atomic():
        sub = _locked(account.id)
        return _start_local(sub, plan, provider=COMP, now=timezone.now(), actor=operator, reason=reason,
                            kind=PlanChange.Kind.COMP)  # fmt: skip


# --- the provider's events (called by billing.services.payments.webhook_process) -------------


def _when(value: int | None, default: datetime) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC) if value else default


def subscription_checkout_paid(*, payment: Payment, event: ProviderEvent) -> str:
    """The subscription checkout completed. The plan starts with the subscription's
    paid invoice (which may arrive before or after this event), not here."""
    if payment.status != Payment.Status.PENDING:
        return f"ignored: the payment is already {payment.status}"
    if not event.subscription_ref:
        return "ignored: the checkout names no subscription"
    payment.status, payment.completed_at = Payment.Status.SUCCEEDED, timezone.now()
    payment.save(update_fields=["status", "completed_at"])
    if event.customer_ref:
        PaymentCustomer.objects.get_or_create(
            account_id=payment.account_id, defaults={"provider": payment.provider, "customer_ref": event.customer_ref}
        )
    return ""


def subscription_event_account(*, provider_name: str, event: ProviderEvent):
    """The account a subscription event is about: by the provider's subscription id,
    else (an invoice that overtook its checkout's event) by the subscription checkout
    our metadata names."""
    with rls_bypass("subscription webhook lookup"):
        found = (
            Subscription.objects.filter(provider=provider_name, provider_subscription_id=event.subscription_ref)
            .values_list("account_id", flat=True)
            .first()
        )
        if found is None and event.metadata.get("payment_id"):
            try:
                found = (
                    Payment.objects.filter(
                        provider=provider_name,
                        kind=Payment.Kind.SUBSCRIPTION,
                        pk=event.metadata["payment_id"],
                        account_id=event.metadata.get("account_id"),
                    )  # fmt: skip
                    .values_list("account_id", flat=True)
                    .first()
                )
            except Exception:  # a malformed id in the metadata
                found = None
    return found


def subscription_invoice_paid(*, account_id, provider_name: str, event: ProviderEvent) -> str:
    """A paid invoice: the plan it names applies, its period starts (or goes on), and
    the period is topped up to the plan's credits once, keyed by the invoice."""
    sub = _locked(account_id)
    if sub.provider_subscription_id and sub.provider_subscription_id != event.subscription_ref:
        if _is_billed(sub):
            return f"ignored: the account is billed by subscription {sub.provider_subscription_id}"
    plan = Plan.objects.filter(code=event.metadata.get("plan", "")).first() or sub.plan
    now = timezone.now()
    start = _when(event.period_start, now)
    end = _when(event.period_end, start + relativedelta(months=1))
    before = sub.plan
    new_subscription = sub.provider_subscription_id != event.subscription_ref or not _is_billed(sub)
    # An invoice for the period under way (an upgrade) names its start; a renewal the next one.
    new_period = new_subscription or abs(start - sub.current_period_start) > timedelta(seconds=5)
    trial = event.amount is not None and event.amount <= 0 and plan.monthly_price > 0
    if new_subscription:
        sub.provider, sub.provider_subscription_id = provider_name, event.subscription_ref
        sub.cancel_at_period_end = False
    if new_period:
        sub.current_period_start, sub.current_period_end = start, end
        sub.period_granted = Decimal("0")
        sub.scheduled_plan = None
    if trial and event.billing_reason == "subscription_create":
        sub.status, sub.trial_ends_at = Subscription.Status.TRIALING, end
        sub.trial_used_at = sub.trial_used_at or now
    else:
        sub.status, sub.past_due_since = Subscription.Status.ACTIVE, None
        if new_period:
            sub.trial_ends_at = None
    sub.plan = plan
    granted = Decimal("0")
    if event.amount is not None and event.amount > 0:
        granted = _grant(sub, plan, key=f"plan-grant:{provider_name}:{event.provider_ref}")
    sub.save()
    _apply_plan(sub.account, plan, sub.status)
    _audit(sub, PlanChange.Kind.PAID if new_subscription or plan != before else PlanChange.Kind.RENEWED,
           from_plan=before, to_plan=plan, provider=provider_name, provider_ref=event.provider_ref,
           credits=granted)  # fmt: skip
    return ""


def subscription_invoice_failed(*, account_id, provider_name: str, event: ProviderEvent) -> str:
    sub = _locked(account_id)
    if sub.provider_subscription_id != event.subscription_ref:
        return "ignored: not the account's current subscription"
    if sub.status not in (Subscription.Status.ACTIVE, Subscription.Status.TRIALING):
        return f"ignored: the subscription is {sub.status}"
    sub.status, sub.past_due_since = Subscription.Status.PAST_DUE, sub.past_due_since or timezone.now()
    sub.save(update_fields=["status", "past_due_since", "updated_at"])
    Account.objects.filter(pk=account_id).update(subscription_status=Account.SubscriptionStatus.PAST_DUE)
    _audit(sub, PlanChange.Kind.PAST_DUE, from_plan=sub.plan, to_plan=sub.plan, provider=provider_name,
           provider_ref=event.provider_ref)  # fmt: skip
    return ""


def subscription_provider_updated(*, account_id, provider_name: str, event: ProviderEvent) -> str:
    """The provider changed the subscription: mirror cancel-at-period-end and a
    collection failure. The plan and the period follow paid invoices only."""
    sub = _locked(account_id)
    if sub.provider_subscription_id != event.subscription_ref:
        return "ignored: not the account's current subscription"
    fields = []
    if event.cancel_at_period_end is not None and event.cancel_at_period_end != sub.cancel_at_period_end:
        sub.cancel_at_period_end = event.cancel_at_period_end
        sub.scheduled_plan = _free() if event.cancel_at_period_end else None
        fields += ["cancel_at_period_end", "scheduled_plan"]
    if event.subscription_status in ("past_due", "unpaid") and sub.status != Subscription.Status.PAST_DUE:
        sub.status, sub.past_due_since = Subscription.Status.PAST_DUE, timezone.now()
        Account.objects.filter(pk=account_id).update(subscription_status=Account.SubscriptionStatus.PAST_DUE)
        fields += ["status", "past_due_since"]
    if not fields:
        return "ignored: nothing changed"
    sub.save(update_fields=[*fields, "updated_at"])
    return ""


def subscription_provider_ended(*, account_id, provider_name: str, event: ProviderEvent) -> str:
    """The provider's subscription is over (cancelled at period end, or unpaid): back to Free."""
    sub = _locked(account_id)
    if sub.provider_subscription_id != event.subscription_ref:
        return "ignored: not the account's current subscription"
    _start_local(sub, _free(), provider="", now=timezone.now(), reason=f"{provider_name} subscription ended",
                 kind=PlanChange.Kind.ENDED)  # fmt: skip
    return ""


SUBSCRIPTION_HANDLERS = {
    EventStatus.ACTIVE: subscription_invoice_paid,
    EventStatus.PAST_DUE: subscription_invoice_failed,
    EventStatus.UPDATED: subscription_provider_updated,
    EventStatus.ENDED: subscription_provider_ended,
}


# --- the beat -----------------------------------------------------------------------------------


def _renew_local(sub: Subscription, now) -> None:
    """Free and comped plans: the next period, on the scheduled plan if one is set."""
    plan = sub.scheduled_plan or sub.plan
    start = sub.current_period_end
    sub.plan, sub.scheduled_plan, sub.cancel_at_period_end = plan, None, False
    sub.status = Subscription.Status.ACTIVE
    sub.current_period_start, sub.current_period_end = start, start + relativedelta(months=1)
    sub.period_granted = Decimal("0")
    granted = _grant(sub, plan, key=f"plan-grant:{sub.id}:{plan.code}:{start.isoformat()}")
    sub.save()
    _apply_plan(sub.account, plan, sub.status)
    _audit(sub, PlanChange.Kind.RENEWED, from_plan=plan, to_plan=plan, provider=sub.provider, credits=granted)


def _renew_dev(sub: Subscription) -> None:
    """The dev provider bills by signing the event Stripe would send at the period end."""
    from billing.providers.dev import DevProvider

    from .payments import webhook_process

    dev = DevProvider()
    if sub.cancel_at_period_end:
        webhook = dev.signed_subscription_ended(sub.provider_subscription_id)
    else:
        plan = sub.scheduled_plan or sub.plan
        start = sub.current_period_end
        webhook = dev.signed_invoice(
            sub.provider_subscription_id, plan, amount=plan.monthly_price, start=start,
            end=start + relativedelta(months=1), reason="subscription_cycle",
        )  # fmt: skip
    webhook_process(provider_name=dev.name, body=webhook.body, headers=webhook.headers)


def subscriptions_renew(now=None) -> int:
    """Beat: roll the periods we bill (Free, comped), let the dev provider bill its
    subscriptions, and return past-due accounts to Free after the grace period.
    Subscriptions billed by a real provider renew with that provider's invoice."""
    now = now or timezone.now()
    with rls_bypass("periodic subscription renewal: listing due subscriptions"):
        due = list(
            Subscription.objects.filter(current_period_end__lte=now).values_list("account_id", "provider", "status")
        )
    handled = 0
    for account_id, provider, status in due:
        if status == Subscription.Status.PAST_DUE:
            with account_context(account_id), transaction.atomic():
                sub = _locked(account_id)
                if sub.past_due_since and now - sub.past_due_since > PAST_DUE_GRACE:
                    _start_local(sub, _free(), provider="", now=now, reason="unpaid past the grace period",
                                 kind=PlanChange.Kind.ENDED)  # fmt: skip
                    handled += 1
            continue
        if provider in LOCAL_PROVIDERS:
            with account_context(account_id), transaction.atomic():
                sub = _locked(account_id)
                # A subscription more than one period behind catches up one period per run.
                if sub.current_period_end <= now:
                    _renew_local(sub, now)
                    handled += 1
        elif provider == "dev":
            with account_context(account_id):
                sub = Subscription.objects.select_related("plan", "scheduled_plan").get(account_id=account_id)
            try:
                _renew_dev(sub)
            except ServiceError as exc:  # e.g. the dev provider is no longer the configured one
                log.error("dev subscription %s of %s not renewed: %s", sub.provider_subscription_id, account_id,
                          exc.message)  # fmt: skip
                continue
            handled += 1
    return handled
