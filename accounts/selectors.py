"""Reads of account data. Tenant objects are always fetched with the account first."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from .models import Account, ApiKey, Invitation, Membership, User
from .models.access import token_digest
from .tenancy.context import rls_bypass


def memberships_for_user(user: User) -> QuerySet[Membership]:
    """Every account the user belongs to; personal account first."""
    return (
        Membership.objects.filter(user=user, account__isnull=False)
        .select_related("account")
        .order_by("-account__is_personal", "account__name", "account_id")
    )


def landing_membership(user: User) -> Membership | None:
    """Where the user lands after signing in: their first team account (by name), else
    their personal one. People in a team work there; the personal workspace stays one
    switch away in the top bar."""
    return memberships_for_user(user).order_by("account__is_personal", "account__name", "account_id").first()


def membership_for_user(user: User, account_id: UUID | str | None) -> Membership | None:
    memberships = memberships_for_user(user)
    if account_id:
        try:
            found = memberships.filter(account_id=account_id).first()
        except (ValueError, TypeError):
            found = None
        if found:
            return found
    return memberships.first()


def members_of(account: Account) -> QuerySet[Membership]:
    return Membership.objects.for_account(account).select_related("user").order_by("created_at")


def member_count(account: Account) -> int:
    return Membership.objects.for_account(account).count()


def pending_invitations(account: Account) -> QuerySet[Invitation]:
    return Invitation.objects.for_account(account).filter(
        status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
    )


def invitations_of(account: Account) -> QuerySet[Invitation]:
    return Invitation.objects.for_account(account).select_related("invited_by").order_by("-created_at")


def api_keys_of(account: Account) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_account(account).select_related("created_by").order_by("-created_at")


def invitation_by_token(raw_token: str) -> Invitation | None:
    """The invitee is not a member yet, so the token lookup crosses tenants."""
    with rls_bypass("invitation lookup by token"):
        return (
            Invitation.objects.select_related("account", "invited_by")
            .filter(token_hash=token_digest(raw_token))
            .first()
        )


def api_key_by_raw(raw_key: str) -> ApiKey | None:
    """The key names its account; until it is found no tenant is known."""
    with rls_bypass("api key lookup"):
        return (
            ApiKey.objects.select_related("account", "created_by")
            .filter(key_hash=token_digest(raw_key), revoked_at__isnull=True)
            .first()
        )
