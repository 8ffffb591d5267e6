from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Invitation
from accounts.services.invitations import invitations_expire as _expire
from accounts.tenancy.tasks import tenant_task


@tenant_task(queue="default", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def invitation_send(*, account_id: str, invitation_id: str, token: str) -> None:
    invitation = Invitation.objects.select_related("account", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_usable:
        return
    # Written in the inviter's language: the invitee has no account (and no locale) yet.
    language = invitation.invited_by.locale if invitation.invited_by else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "invitation": invitation,
            "accept_url": settings.SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token]),
            "inviter": invitation.invited_by.display_name if invitation.invited_by else gettext("Someone"),
        }
        subject = gettext("You are invited to %(account)s") % {"account": invitation.account.name}
        message = render_to_string("accounts/email/invitation.txt", context)
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        message=message,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


@shared_task(queue="default")
def invitations_expire() -> int:
    return _expire()
