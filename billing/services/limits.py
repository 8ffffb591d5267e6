"""Plan limits that services check before they create something."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop

from accounts.models import Account, Invitation, Membership
from aiplatform.errors import LimitReached
from billing.models import AccountDailyUsage, Subscription

GB = 1024**3


@dataclass(frozen=True)
class LimitUsage:
    name: str
    label: str
    used: int | float  # storage in GB to two places, the rest counted
    limit: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 100


LABELS = {
    "users": gettext_noop("Users"),
    "creators": gettext_noop("Creators"),
    "voice_models": gettext_noop("Voice models"),
    "storage_gb": gettext_noop("Storage (GB)"),
    "monthly_generations": gettext_noop("AI generations this month"),
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


def _month_start(today: date | None) -> date:
    return (today or date.today()).replace(day=1)


def monthly_generations_used(account: Account, today: date | None = None) -> int:
    """Generations users asked for this month (usage records with `generation`), not
    every AI call: embeddings and internal calls do not count."""
    used = AccountDailyUsage.objects.filter(account=account, stat_date__gte=_month_start(today)).aggregate(
        n=Sum("generations")
    )["n"]
    return used or 0


def limit_check(*, account: Account, name: str, used: int, adding: int = 1) -> None:
    """Raise LimitReached (409) when `adding` more would exceed the plan."""
    limit = _limit(account, name)
    if used + adding > limit:
        raise LimitReached(
            gettext(
                "Your plan allows %(limit)s %(label)s; %(used)s are in use. "
                "Upgrade the plan or free some up to continue."
            )
            % {"limit": limit, "label": gettext(LABELS[name]).lower(), "used": used},
            extra={"limit": limit, "used": used, "name": name},
        )


# The plan's monthly generations (Free's for an account not subscribed yet) and this
# month's count, in one statement: chats check it before every answer.
_GENERATIONS_SQL = """
SELECT COALESCE(
           (SELECT p.monthly_generations FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id
             WHERE s.account_id = %(account)s),
           (SELECT monthly_generations FROM billing_plan WHERE code = 'free')),
       COALESCE((SELECT SUM(generations) FROM billing_accountdailyusage
                  WHERE account_id = %(account)s AND stat_date >= %(month)s), 0)
"""


def generation_check(*, account: Account, today: date | None = None) -> None:
    """The one check every product makes before a generation a user asked for (a
    service run, a chat answer, a bot's reply, later campaigns and media): raises
    LimitReached (409 `plan_limit_reached`) naming the limit, the figures and when
    the count resets. Count the generation itself by passing `generation=True` to
    the AI gateway call that makes it. Call inside the account's context."""
    month = _month_start(today)
    with connection.cursor() as cur:
        cur.execute(_GENERATIONS_SQL, {"account": account.id, "month": month})
        limit, used = cur.fetchone()
    if limit is None:  # no plan configured at all (not even Free): nothing to count against
        return
    if used + 1 > limit:
        resets = month + relativedelta(months=1)
        raise LimitReached(
            gettext(
                "Your plan allows %(limit)s AI generations a month and %(used)s were used this month. "
                "The count starts again on %(resets)s; upgrade the plan to continue before then."
            )
            % {"limit": limit, "used": used, "resets": f"{resets:%Y-%m-%d}"},
            extra={"limit": limit, "used": used, "name": "monthly_generations", "resets_on": resets.isoformat()},
        )


def storage_used_gb(account: Account) -> float:
    """What the account stores, in GB to two places, as counted by the product that
    stores files (settings.STORAGE_USED_BYTES: a dotted path to a function of the
    account; billing imports no product). Call in the account's context."""
    if not settings.STORAGE_USED_BYTES:
        return 0
    used = import_string(settings.STORAGE_USED_BYTES)(account)
    return round(int(used) / GB, 2)


def plan_usage(
    account: Account, *, storage_gb: float | None = None, creators: int = 0, voice_models: int = 0
) -> list[LimitUsage]:
    """Usage against every limit. Storage is measured (`storage_used_gb`) unless given;
    apps that own creators and voices pass their counts."""
    if storage_gb is None:
        storage_gb = storage_used_gb(account)
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
