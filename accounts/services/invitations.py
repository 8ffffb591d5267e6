from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import require_role
from accounts.events import publish_on_commit
from accounts.models import Account, Invitation, Membership, Role, User
from accounts.models.access import token_digest
from accounts.selectors import member_count, pending_invitations
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput, LimitReached, NotFound


def _lock_account(account: Account) -> Account:
    return Account.objects.select_for_update().get(pk=account.pk)


def _limit_error(account: Account) -> LimitReached:
    return LimitReached(
        _(
            "This account's plan allows %(limit)s users, counting pending invitations. "
            "Remove a member, revoke an invitation or upgrade the plan."
        )
        % {"limit": account.user_limit},
        extra={"limit": account.user_limit},
    )


@transaction.atomic
def invitation_create(
    *, account: Account, actor: Membership, email: str, role: str = Role.MEMBER
) -> tuple[Invitation, str]:
    """Invite `email`; returns the invitation and its raw token (only ever in the email)."""
    require_role(actor, Role.ADMIN, _("Only admins and owners can invite members."))
    try:
        role_enum = Role(role)
    except ValueError:
        raise InvalidInput(
            _("Unknown role '%(role)s'.") % {"role": role},
            fields={"role": [_("Choose one of %(roles)s.") % {"roles": ", ".join(Role.values)}]},
        )
    if role_enum.rank > actor.role_enum.rank:
        raise Forbidden(_("You cannot invite someone with a role above your own."))
    email = User.objects.normalize_email(email or "").strip().lower()
    if not email or "@" not in email:
        raise InvalidInput(_("Enter a valid email address."), fields={"email": [_("Enter a valid email address.")]})
    account = _lock_account(account)
    if Membership.objects.for_account(account).filter(user__email__iexact=email).exists():
        raise Conflict(_("%(email)s is already a member of this account.") % {"email": email}, code="already_member")
    pending = pending_invitations(account)
    if pending.filter(email=email).exists():
        raise Conflict(_("%(email)s already has a pending invitation.") % {"email": email}, code="already_invited")
    # Expired invitations still marked pending would block the unique constraint.
    Invitation.objects.for_account(account).filter(email=email, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.EXPIRED
    )
    if member_count(account) + pending.count() >= account.user_limit:
        raise _limit_error(account)
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        account=account,
        email=email,
        role=role_enum,
        token_hash=token_digest(raw),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    from accounts.tasks import invitation_send

    transaction.on_commit(
        lambda: invitation_send.delay(account_id=str(account.id), invitation_id=str(invitation.id), token=raw)
    )
    return invitation, raw


@transaction.atomic
def invitation_revoke(*, account: Account, actor: Membership, invitation: Invitation) -> Invitation:
    require_role(actor, Role.ADMIN, _("Only admins and owners can revoke invitations."))
    if invitation.status != Invitation.Status.PENDING:
        raise Conflict(_("This invitation is already %(status)s.") % {"status": invitation.status}, code="not_pending")
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation | None, user: User) -> Membership:
    """Join the inviting account. The invitation must be addressed to this user."""
    if invitation is None:
        raise NotFound(_("This invitation link is not valid. Ask for a new invitation."), code="invitation_invalid")
    with account_context(invitation.account_id):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status == Invitation.Status.ACCEPTED:
            raise Conflict(_("This invitation has already been used."), code="invitation_used")
        if invitation.status == Invitation.Status.REVOKED:
            raise Conflict(_("This invitation was revoked. Ask for a new invitation."), code="invitation_revoked")
        if invitation.status == Invitation.Status.EXPIRED or invitation.is_expired:
            raise Conflict(_("This invitation has expired. Ask for a new invitation."), code="invitation_expired")
        if invitation.email.lower() != user.email.lower():
            raise Forbidden(
                _("This invitation was sent to %(email)s. Sign in with that address to accept it.")
                % {"email": invitation.email},
                code="invitation_wrong_user",
            )
        account = _lock_account(invitation.account)
        if Membership.objects.for_account(account).filter(user=user).exists():
            raise Conflict(_("You are already a member of this account."), code="already_member")
        if member_count(account) >= account.user_limit:
            raise _limit_error(account)
        membership = Membership.objects.create(account=account, user=user, role=invitation.role)
        invitation.status = Invitation.Status.ACCEPTED
        invitation.accepted_by = user
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["status", "accepted_by", "accepted_at"])
    publish_on_commit(account.id, "member_joined", {"email": user.email, "role": membership.role})
    return membership


def invitations_expire() -> int:
    """Mark pending invitations past their expiry (platform sweep, all tenants)."""
    from accounts.tenancy.context import rls_bypass

    with rls_bypass("periodic invitation expiry sweep"):
        return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=timezone.now()).update(
            status=Invitation.Status.EXPIRED
        )
