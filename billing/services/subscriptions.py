"""Plans and subscriptions: the plan sets the account's limits and grants credits
at the start of every period (Celery beat renews periods)."""

from __future__ import annotations

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Forbidden, InvalidInput
from billing.models import CreditTransaction, Plan, Subscription, Wallet

from .ledger import Reference, wallet_credit, wallet_for

DEFAULT_PLAN = "free"
PAST_DUE_GRACE = timedelta(days=14)


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


def subscription_grant_period(subscription: Subscription) -> CreditTransaction | None:
    """Credit the plan's monthly credits once per period: the idempotency key names
    the plan and the period's start, so a repeated grant returns the first one."""
    period = subscription.current_period_start.date()
    if subscription.plan.monthly_credits <= 0:
        return None
    if subscription.status not in (Subscription.Status.ACTIVE, Subscription.Status.TRIALING):
        return None
    tx = wallet_credit(
        account=subscription.account,
        amount=subscription.plan.monthly_credits,
        type=CreditTransaction.Type.GRANT,
        reference=Reference("subscription", str(subscription.id)),
        description=f"{subscription.plan.name} plan credits for the period from {period}",
        idempotency_key=f"plan-grant:{subscription.id}:{subscription.plan.code}:{subscription.current_period_start.isoformat()}",
    )
    Subscription.objects.filter(pk=subscription.pk).update(last_granted_period=period)
    subscription.last_granted_period = period
    return tx


@transaction.atomic
def subscription_start(*, account: Account, plan: Plan, trial: bool) -> Subscription:
    """Put the account on `plan` from now: new period, limits applied, credits granted."""
    now = timezone.now()
    status = Subscription.Status.TRIALING if trial and plan.trial_days else Subscription.Status.ACTIVE
    subscription, _ = Subscription.objects.update_or_create(
        account=account,
        defaults={
            "plan": plan,
            "status": status,
            "current_period_start": now,
            "current_period_end": now + relativedelta(months=1),
            "trial_ends_at": now + timedelta(days=plan.trial_days) if status == Subscription.Status.TRIALING else None,
            "cancel_at_period_end": False,
            "past_due_since": None,
            "last_granted_period": None,
        },
    )
    _apply_plan(account, plan, status)
    subscription_grant_period(subscription)
    return subscription


def subscription_for(account: Account) -> Subscription:
    """The account's subscription; a new account starts on the free plan."""
    wallet_for(account)
    with account_context(account.id):
        subscription = Subscription.objects.select_related("plan", "account").filter(account=account).first()
        if subscription is None:
            subscription = subscription_start(account=account, plan=Plan.objects.get(code=DEFAULT_PLAN), trial=False)
    return subscription


def subscription_change(*, account: Account, actor: Membership, plan_code: str) -> Subscription:
    if not actor.role_enum.at_least(Role.ADMIN):
        raise Forbidden("Only admins and owners can change the plan.")
    plan = Plan.objects.filter(code=plan_code, is_active=True).first()
    if plan is None:
        raise InvalidInput(f"There is no plan '{plan_code}'.", fields={"plan": ["Choose an available plan."]})
    current = subscription_for(account)
    if current.plan_id == plan.id and current.status != Subscription.Status.CANCELLED:
        return current
    with account_context(account.id):
        return subscription_start(account=account, plan=plan, trial=current.plan.code == DEFAULT_PLAN)


def subscription_cancel(*, account: Account, actor: Membership) -> Subscription:
    if not actor.role_enum.at_least(Role.OWNER):
        raise Forbidden("Only owners can cancel the subscription.")
    subscription = subscription_for(account)
    with account_context(account.id):
        Subscription.objects.filter(pk=subscription.pk).update(cancel_at_period_end=True)
    subscription.cancel_at_period_end = True
    return subscription


def _renew_one(subscription: Subscription, now) -> None:
    account = subscription.account
    free = Plan.objects.get(code=DEFAULT_PLAN)
    status = subscription.status
    if status == Subscription.Status.PAST_DUE:
        if subscription.past_due_since and now - subscription.past_due_since > PAST_DUE_GRACE:
            subscription_start(account=account, plan=free, trial=False)  # unpaid past the grace period: back to free
        return
    if subscription.cancel_at_period_end or status == Subscription.Status.CANCELLED:
        subscription_start(account=account, plan=free, trial=False)
        return
    if status == Subscription.Status.TRIALING and subscription.trial_ends_at and subscription.trial_ends_at <= now:
        status = Subscription.Status.ACTIVE
    subscription.status = status
    subscription.current_period_start = subscription.current_period_end
    subscription.current_period_end = subscription.current_period_end + relativedelta(months=1)
    subscription.save(update_fields=["status", "current_period_start", "current_period_end", "updated_at"])
    _apply_plan(account, subscription.plan, status)
    subscription_grant_period(subscription)


def subscriptions_renew(now=None) -> int:
    """Beat: roll every subscription whose period ended and grant the new period."""
    now = now or timezone.now()
    with rls_bypass("periodic subscription renewal: listing due subscriptions"):
        due = list(Subscription.objects.filter(current_period_end__lte=now).values_list("account_id", flat=True))
    for account_id in due:
        with account_context(account_id), transaction.atomic():
            subscription = (
                Subscription.objects.select_for_update().select_related("plan", "account").get(account_id=account_id)
            )
            # A subscription more than one period behind catches up one period per run.
            if subscription.current_period_end <= now:
                _renew_one(subscription, now)
    return len(due)


def subscription_mark_past_due(*, account: Account) -> None:
    """The provider could not collect the payment (webhook)."""
    with account_context(account.id):
        Subscription.objects.filter(account=account, past_due_since__isnull=True).update(
            status=Subscription.Status.PAST_DUE, past_due_since=timezone.now()
        )
        Account.objects.filter(pk=account.pk).update(subscription_status=Account.SubscriptionStatus.PAST_DUE)


def subscription_mark_paid(*, account: Account) -> None:
    with account_context(account.id):
        Subscription.objects.filter(account=account, status=Subscription.Status.PAST_DUE).update(
            status=Subscription.Status.ACTIVE, past_due_since=None
        )
        Account.objects.filter(pk=account.pk).update(subscription_status=Account.SubscriptionStatus.ACTIVE)
