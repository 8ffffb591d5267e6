"""Cost controls: spend alerts to owners, and the emergency shut-off of AI calls."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Forbidden, InvalidInput, ServiceError
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
        raise AiShutoff(
            "AI features are paused for this account by an emergency shut-off"
            + (f" ({control.shutoff_reason})" if control.shutoff_reason else "")
            + ". An owner can lift it under Billing → Usage.",
        )


def _require(actor: Membership, role: Role, what: str) -> None:
    if not actor.role_enum.at_least(role):
        raise Forbidden(f"Only {role.label.lower()}s{' and owners' if role == Role.ADMIN else ''} can {what}.")


def cost_control_update(
    *, account: Account, actor: Membership, daily_limit=None, monthly_limit=None, auto_shutoff: bool = False
) -> CostControl:
    _require(actor, Role.ADMIN, "change cost controls")
    daily = parse_credits(daily_limit, field="daily_limit") if daily_limit not in (None, "") else None
    monthly = parse_credits(monthly_limit, field="monthly_limit") if monthly_limit not in (None, "") else None
    if daily is not None and monthly is not None and daily > monthly:
        raise InvalidInput(
            "The daily limit cannot be above the monthly limit.", fields={"daily_limit": ["Lower than monthly."]}
        )
    control = cost_control_for(account)
    with account_context(account.id):
        control.daily_limit, control.monthly_limit, control.auto_shutoff = daily, monthly, bool(auto_shutoff)
        control.save(update_fields=["daily_limit", "monthly_limit", "auto_shutoff", "updated_at"])
    return control


def shutoff_engage(*, account: Account, actor: Membership | None, reason: str) -> CostControl:
    if actor is not None:
        _require(actor, Role.ADMIN, "pause AI features")
    control = cost_control_for(account)
    with account_context(account.id):
        control.shutoff_active = True
        control.shutoff_reason = (reason or "").strip()[:500] or "engaged manually"
        control.shutoff_at = timezone.now()
        control.shutoff_by = actor.user if actor else None
        control.save(update_fields=["shutoff_active", "shutoff_reason", "shutoff_at", "shutoff_by", "updated_at"])
    return control


def shutoff_lift(*, account: Account, actor: Membership) -> CostControl:
    _require(actor, Role.OWNER, "lift the emergency shut-off")
    control = cost_control_for(account)
    with account_context(account.id):
        control.shutoff_active = False
        control.shutoff_reason = ""
        control.save(update_fields=["shutoff_active", "shutoff_reason", "updated_at"])
    return control


def _owner_emails(account: Account) -> list[str]:
    """Owners who want notification emails (no preferences row: the default, on)."""
    owners = Membership.objects.for_account(account).filter(role=Role.OWNER)
    owners = owners.exclude(user__preferences__email_notifications=False)
    return list(owners.order_by("user__email").values_list("user__email", flat=True))


def _send(emails: list[str], subject: str, body: str) -> None:
    if emails:
        send_mail(f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", body, settings.DEFAULT_FROM_EMAIL, emails)


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
            body = (
                f"{account.name} has used {spent} credits this {'day' if name == 'daily' else 'month'}, "
                f"over its {name} limit of {limit}."
            )
            if control.auto_shutoff and not control.shutoff_active:
                shutoff_engage(account=account, actor=None, reason=f"{name} limit of {limit} credits reached")
                body += " AI features are paused until an owner lifts the shut-off."
            # Read the recipients now: after commit there is no tenant context to read them in.
            emails, subject = _owner_emails(account), f"{name.title()} spend limit reached"
            transaction.on_commit(lambda e=emails, s=subject, b=body: _send(e, s, b))
    return sent
