"""Notification emails about an account, to its members, each in their own language.

Every email the platform sends to members about their account (spend alerts, a
channel that needs reconnecting, the bot handing customers over) goes through
here, so members' choices hold everywhere: a member who turned notification
emails off gets none, and each reads the email in their `locale`. Invitations
are not notifications (the invitee is not a member yet): accounts/tasks.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str


def notification_recipients(account: Account | Any, roles: Iterable[str]) -> list[Recipient]:
    """Members with one of `roles` who want notification emails (no preferences row: on)."""
    account_id = getattr(account, "pk", account)
    with account_context(account_id):
        rows = (
            Membership.objects.for_account(account_id)
            .filter(role__in=list(roles), user__is_active=True)
            .exclude(user__preferences__email_notifications=False)
            .order_by("user__email")
            .values_list("user__email", "user__locale")
        )
        return [Recipient(email, locale or settings.LANGUAGE_CODE) for email, locale in rows]


def email_notification(recipients: list[Recipient], *, subject, template: str, context: dict) -> None:
    """Send once the current transaction commits: one email per language, the subject
    (a lazy translatable string, `%(name)s` filled from `context`) and the body
    template rendered in that language."""
    by_locale: dict[str, list[str]] = defaultdict(list)
    for recipient in recipients:
        by_locale[recipient.locale].append(recipient.email)
    if not by_locale:
        return

    def send() -> None:
        for locale, emails in by_locale.items():
            with translation.override(locale):
                line = str(subject) % context
                body = render_to_string(template, context)
            send_mail(f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{line}", body, settings.DEFAULT_FROM_EMAIL, emails)

    transaction.on_commit(send)
