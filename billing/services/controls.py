"""Cost controls: spend alerts to owners, and the emergency shut-off of AI calls."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.actors import Actor, require_role, system_actor
from accounts.models import Account, Role
from accounts.services.notifications import email_notification, notification_recipients
from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput, ServiceError
from billing.models import CostControl

from .amounts import parse_credits
from .usage import spend_totals


class AiShutoff(ServiceError):
    status = 403
    code = "ai_shutoff"


def cost_control_for(account: Account) -> CostControl:
    with account_context(account.id):
        control, _ = CostControl.objects.get_or_create(account=account)
    return control


def ai_call_guard(*, account: Account) -> None:
    """Called by the AI gateway before every call."""
    with account_context(account.id):
        control = CostControl.objects.filter(account=account, shutoff_active=True).first()
    if control is not None:
        if control.shutoff_reason:
            message = gettext(
                "AI features are paused for this account by an emergency shut-off (%(reason)s). "
                "An owner can lift it under Billing → Usage."
            ) % {"reason": control.shutoff_reason}
        else:
            message = gettext(
                "AI features are paused for this account by an emergency shut-off. "
                "An owner can lift it under Billing → Usage."
            )
        raise AiShutoff(message)


def cost_control_update(
    *, account: Account, actor: Actor, daily_limit=None, monthly_limit=None, auto_shutoff: bool = False
) -> CostControl:
    require_role(actor, Role.ADMIN, what="change cost controls")
    daily = parse_credits(daily_limit, field="daily_limit") if daily_limit not in (None, "") else None
    monthly = parse_credits(monthly_limit, field="monthly_limit") if monthly_limit not in (None, "") else None
    if daily is not None and monthly is not None and daily > monthly:
        raise InvalidInput(
            gettext("The daily limit cannot be above the monthly limit."),
            fields={"daily_limit": ["Lower than monthly."]},
        )
    control = cost_control_for(account)
    with account_context(account.id):
        control.daily_limit, control.monthly_limit, control.auto_shutoff = daily, monthly, bool(auto_shutoff)
        control.save(update_fields=["daily_limit", "monthly_limit", "auto_shutoff", "updated_at"])
    return control


def shutoff_engage(*, account: Account, actor: Actor, reason: str) -> CostControl:
    """Pause the account's AI features: an admin's choice, or the platform's
    (`system_actor(...)`) when a spending limit trips."""
    require_role(actor, Role.ADMIN, what="pause AI features")
    control = cost_control_for(account)
    with account_context(account.id):
        control.shutoff_active = True
        control.shutoff_reason = (reason or "").strip()[:500] or "engaged manually"
        control.shutoff_at = timezone.now()
        control.shutoff_by = actor.user
        control.save(update_fields=["shutoff_active", "shutoff_reason", "shutoff_at", "shutoff_by", "updated_at"])
    return control


def shutoff_lift(*, account: Account, actor: Actor) -> CostControl:
    require_role(actor, Role.OWNER, what="lift the emergency shut-off")
    control = cost_control_for(account)
    with account_context(account.id):
        control.shutoff_active = False
        control.shutoff_reason = ""
        control.save(update_fields=["shutoff_active", "shutoff_reason", "updated_at"])
    return control


_ALERT_SUBJECTS = {
    "daily": gettext_lazy("Daily spend limit reached"),
    "monthly": gettext_lazy("Monthly spend limit reached"),
}


def spend_check(*, account: Account, today: date | None = None) -> list[str]:
    """After spending: alert owners once per day / month when a limit is passed;
    engage the shut-off if the account asked for it. Returns the alerts sent."""
    today = today or date.today()
    sent: list[str] = []
    with account_context(account.id), transaction.atomic():
        control = CostControl.objects.select_for_update().filter(account=account).first()
        if control is None or (control.daily_limit is None and control.monthly_limit is None):
            return sent
        day, month = spend_totals(account, today)
        checks = [
            ("daily", control.daily_limit, day, "last_daily_alert", today),
            ("monthly", control.monthly_limit, month, "last_monthly_alert", today.replace(day=1)),
        ]
        for name, limit, spent, marker, period in checks:
            if limit is None or spent < limit or getattr(control, marker) == period:
                continue
            setattr(control, marker, period)
            control.save(update_fields=[marker, "updated_at"])
            sent.append(name)
            shut_off = bool(control.auto_shutoff and not control.shutoff_active)
            if shut_off:
                shutoff_engage(
                    account=account,
                    actor=system_actor("cost control"),
                    reason=f"{name} limit of {limit} credits reached",
                )
            # Read the recipients now: after commit there is no tenant context to read them in.
            email_notification(
                notification_recipients(account, [Role.OWNER]),
                subject=_ALERT_SUBJECTS[name],
                template="billing/email/spend_alert.txt",
                context={"account": account.name, "period": name, "spent": spent, "limit": limit,
                         "shut_off": shut_off},
            )  # fmt: skip
    return sent
