"""Reads of billing data for the HTML pages. The account always comes first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Account
from billing.models import (
    CostControl,
    CreditPack,
    CreditTransaction,
    DailyProviderCost,
    Payment,
    PaymentCustomer,
    Plan,
    TopUpRule,
    UserMonthlyUsage,
)

SPEND_TYPES = (CreditTransaction.Type.USE, CreditTransaction.Type.CHAT_BURN)


@dataclass(frozen=True)
class WalletDay:
    day: date
    balance: Decimal  # at the end of the day (today: now)
    spent: Decimal  # credits used that day (use and chat burn)


def ledger_of(account: Account) -> QuerySet[CreditTransaction]:
    """The account's ledger, newest first (the order of the API)."""
    return CreditTransaction.objects.for_account(account).select_related("actor").order_by("-created_at", "-id")


def wallet_history(
    account: Account, *, balance_now: Decimal, days: int = 30, today: date | None = None
) -> list[WalletDay]:
    """Closing balance and spend for each of the last `days` days, in three queries.

    A day's closing balance is the `balance_after` of its last ledger row, and a
    quiet day carries the previous one forward; today's is the wallet's balance.
    """
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    ledger = CreditTransaction.objects.for_account(account)
    recent = ledger.filter(created_at__gte=since).annotate(day=TruncDate("created_at"))
    closing = dict(recent.order_by("day", "-created_at", "-id").distinct("day").values_list("day", "balance_after"))
    spent = {
        row["day"]: -row["total"]
        for row in recent.filter(type__in=SPEND_TYPES).values("day").annotate(total=Sum("amount")).order_by()
    }
    balance = (
        ledger.filter(created_at__lt=since)
        .order_by("-created_at", "-id")
        .values_list("balance_after", flat=True)
        .first()
    ) or Decimal("0")
    history = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        balance = balance_now if day == today else closing.get(day, balance)
        history.append(WalletDay(day, balance, spent.get(day, Decimal("0"))))
    return history


def packs_for_sale() -> QuerySet[CreditPack]:
    return CreditPack.objects.filter(is_active=True)


def plans_for_sale() -> QuerySet[Plan]:
    return Plan.objects.filter(is_active=True)


def top_up_rules_of(account: Account) -> dict[str, TopUpRule]:
    """The account's rules by kind (at most one of each)."""
    return {rule.kind: rule for rule in TopUpRule.objects.for_account(account).select_related("pack")}


def saved_card_of(account: Account) -> PaymentCustomer | None:
    """The card a paid checkout saved for automatic top-ups, if any."""
    return PaymentCustomer.objects.for_account(account).exclude(payment_method_ref="").first()


def recent_payments_of(account: Account, limit: int = 5) -> list[Payment]:
    return list(Payment.objects.for_account(account).select_related("pack").order_by("-created_at")[:limit])


def cost_control_of(account: Account) -> CostControl:
    """The account's cost controls for display, without creating the row: a page
    view must not arm limits (a new row's limits read as 0, not "none")."""
    control = CostControl.objects.for_account(account).select_related("shutoff_by").first()
    return control or CostControl(account=account, daily_limit=None, monthly_limit=None)


def active_shutoff_of(account: Account) -> CostControl | None:
    """The engaged emergency shut-off, if any (read-only: never creates the row)."""
    return CostControl.objects.for_account(account).filter(shutoff_active=True).select_related("shutoff_by").first()


@dataclass(frozen=True)
class MemberMonth:
    """One member's usage this month (seed 002 `user_usage`)."""

    user_label: str
    credits: Decimal
    provider_cost: Decimal
    generations: int
    tokens: int
    api_calls: int
    campaigns: int = 0
    storage_bytes: int = 0


def member_usage_of(account: Account, month: date | None = None) -> list[MemberMonth]:
    """Per-member usage of the month (first day; this month by default), highest credits first."""
    month = (month or timezone.now().date()).replace(day=1)
    rows = (
        UserMonthlyUsage.objects.filter(account=account, month=month)
        .select_related("user")
        .order_by("-ai_credits_used", "user__email")
    )
    return [
        MemberMonth(
            user_label=row.user.username or row.user.email,
            credits=row.ai_credits_used,
            provider_cost=row.provider_cost,
            generations=row.generations,
            tokens=row.tokens_used,
            api_calls=row.api_calls_made,
            campaigns=row.campaigns_generated,
            storage_bytes=row.storage_bytes_used,
        )  # fmt: skip
        for row in rows
    ]


def provider_costs_of(account: Account, *, days: int) -> list[dict]:
    """Per day per provider over the last `days` days (seed 002 `ai_cost_tracking`,
    summed over members): date, provider, cost (USD), generations, tokens; newest first."""
    since = timezone.now().date() - timedelta(days=days - 1)
    return list(
        DailyProviderCost.objects.filter(account=account, date__gte=since)
        .values("date", "provider")
        .annotate(cost=Sum("cost"), generations=Sum("generations_count"), tokens=Sum("tokens_used"))
        .order_by("-date", "provider")
    )
