"""Plan limits that services check before they create something."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from accounts.models import Account, Invitation, Membership
from aiplatform.errors import LimitReached
from billing.models import AccountDailyUsage, Subscription


@dataclass(frozen=True)
class LimitUsage:
    name: str
    label: str
    used: int
    limit: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 100


LABELS = {
    "users": "Users",
    "creators": "Creators",
    "voice_models": "Voice models",
    "storage_gb": "Storage (GB)",
    "monthly_generations": "AI generations this month",
}


def _limit(account: Account, name: str) -> int:
    if name == "monthly_generations":
        sub = Subscription.objects.filter(account=account).select_related("plan").first()
        return sub.plan.monthly_generations if sub else 0
    return {
        "users": account.user_limit,
        "creators": account.creator_limit,
        "voice_models": account.voice_model_limit,
        "storage_gb": account.storage_limit_gb,
    }[name]


def monthly_generations_used(account: Account, today: date | None = None) -> int:
    today = today or date.today()
    used = AccountDailyUsage.objects.filter(account=account, stat_date__gte=today.replace(day=1)).aggregate(
        n=Sum("ai_calls")
    )["n"]
    return used or 0


def limit_check(*, account: Account, name: str, used: int, adding: int = 1) -> None:
    """Raise LimitReached (409) when `adding` more would exceed the plan."""
    limit = _limit(account, name)
    if used + adding > limit:
        raise LimitReached(
            f"Your plan allows {limit} {LABELS[name].lower()}; {used} are in use. "
            "Upgrade the plan or free some up to continue.",
            extra={"limit": limit, "used": used, "name": name},
        )


def generation_check(*, account: Account) -> None:
    limit_check(account=account, name="monthly_generations", used=monthly_generations_used(account))


def plan_usage(account: Account, *, storage_gb: int = 0, creators: int = 0, voice_models: int = 0) -> list[LimitUsage]:
    """Usage against every limit. Apps that own creators, voices and storage pass their counts."""
    users = Membership.objects.for_account(account).count()
    pending = Invitation.objects.for_account(account).filter(status=Invitation.Status.PENDING).count()
    used = {
        "users": users + pending,
        "creators": creators,
        "voice_models": voice_models,
        "storage_gb": storage_gb,
        "monthly_generations": monthly_generations_used(account),
    }
    return [LimitUsage(name, LABELS[name], used[name], _limit(account, name)) for name in LABELS]
