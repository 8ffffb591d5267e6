"""Public links to a result.

The link carries `secrets.token_urlsafe(24)`: 192 random bits, not derived from
the id, so it cannot be guessed or enumerated. Unsharing deletes the token, so
an old link answers 404 forever; sharing again makes a new one. The public page
shows only `public_view`'s allowlist: never the prompt, the template, the input (it often
holds names and birth dates) or the account.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.models import Membership, Role
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from templates.models import ServiceResult

from .validation import output_for_display

TOKEN_BYTES = 24
MAX_SHARE_DAYS = 365
MAX_VIEW_CAP = 1_000_000
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


LINK_UNKNOWN = gettext_noop("This link does not exist or was turned off by its owner.")
LINK_USED_UP = gettext_noop("This shared link has reached its view limit. Ask its owner for a new one.")
LINK_EXPIRED = gettext_noop("This shared link has expired. Ask its owner for a new one.")


class ShareGone(ServiceError):
    """The link existed and worked, but its time or its views are used up."""

    status = 410
    code = "share_expired"


def _may_share(result: ServiceResult, actor: Membership) -> None:
    if actor.account_id != result.account_id:
        raise NotFound(gettext("No such result in this account."))
    if result.user_id != actor.user_id and not actor.role_enum.at_least(Role.ADMIN):
        raise Forbidden(gettext("Only the person who ran this service, or an account admin, can share its result."))


def result_share(
    *, result: ServiceResult, actor: Membership, expires_in: timedelta | None = None, max_views: int | None = None
) -> ServiceResult:
    """Make the result public (again). Sharing a public result keeps its link
    and applies the new expiry and view cap, counting views from zero."""
    _may_share(result, actor)
    if expires_in is not None and not timedelta(minutes=1) <= expires_in <= timedelta(days=MAX_SHARE_DAYS):
        raise InvalidInput(
            gettext("Choose an expiry up to a year."), fields={"expires_in": [f"1 to {MAX_SHARE_DAYS} days."]}
        )
    if max_views is not None and (isinstance(max_views, bool) or not 1 <= max_views <= MAX_VIEW_CAP):
        raise InvalidInput(gettext("Choose a view cap of at least 1."), fields={"max_views": [f"1 to {MAX_VIEW_CAP}."]})
    with account_context(result.account_id):
        row = ServiceResult.objects.select_for_update().get(pk=result.pk, account_id=result.account_id)
        if row.status != ServiceResult.Status.COMPLETED:
            raise Conflict(gettext("Only a completed result can be shared."), code="result_not_completed")
        now = timezone.now()
        row.share_token = row.share_token or secrets.token_urlsafe(TOKEN_BYTES)
        row.is_public = True
        row.shared_at = now
        # The link never outlives the result.
        row.share_expires_at = min(now + expires_in, row.expires_at) if expires_in else row.expires_at
        row.max_views = max_views
        row.view_count = 0
        row.save(update_fields=["share_token", "is_public", "shared_at", "share_expires_at", "max_views",
                                "view_count", "updated_at"])  # fmt: skip
    return row


def result_unshare(*, result: ServiceResult, actor: Membership) -> ServiceResult:
    _may_share(result, actor)
    with account_context(result.account_id):
        row = ServiceResult.objects.select_for_update().get(pk=result.pk, account_id=result.account_id)
        row.is_public = False
        row.share_token = None
        row.shared_at = row.share_expires_at = row.max_views = None
        row.view_count = 0
        row.save(update_fields=["is_public", "share_token", "shared_at", "share_expires_at", "max_views",
                                "view_count", "updated_at"])  # fmt: skip
    return row


def shared_result_open(token: str) -> ServiceResult:
    """The shared result behind `token`, counting this view. NotFound (404) for
    an unknown or revoked link, ShareGone (410) for an expired or used-up one."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise NotFound(LINK_UNKNOWN)
    now = timezone.now()
    # No tenant is known before the token is looked up; the lookup is by the secret token only.
    with rls_bypass("public share link"):
        counted = (
            ServiceResult.objects.filter(
                share_token=token, is_public=True, status=ServiceResult.Status.COMPLETED, expires_at__gt=now
            )
            .filter(Q(share_expires_at__isnull=True) | Q(share_expires_at__gt=now))
            .filter(Q(max_views__isnull=True) | Q(view_count__lt=F("max_views")))
            .update(view_count=F("view_count") + 1)
        )
        row = ServiceResult.objects.select_related("service").filter(share_token=token, is_public=True).first()
    if row is None:
        raise NotFound(LINK_UNKNOWN)
    if not counted:
        if row.max_views is not None and row.view_count >= row.max_views:
            raise ShareGone(LINK_USED_UP)
        raise ShareGone(LINK_EXPIRED)
    return row


def public_view(result: ServiceResult, lang: str) -> dict:
    """Everything a public link shows: an allowlist, so a new column stays private by default."""
    service = result.service
    return {
        "service": {"code": service.service_type, "name": service.name_in(lang), "icon": service.icon},
        "output_format": result.output_format,
        "output": output_for_display(result),
        "created_at": result.created_at.date().isoformat(),
    }
