"""Following creators of the platform directory, within the plan's `creator_limit`.

The directory itself (creators, categories) is platform data managed by
operators in the admin; `creator_clean` normalises what they type.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, Membership, Role
from aiplatform.errors import Forbidden, NotFound
from billing.services.limits import limit_check
from canvas.models import AccountFollowedCreator, Creator
from canvas.selectors import follows_count

_LOCK_CLASS = 0x4346  # advisory lock namespace: "CF", canvas follows


def _require_member(actor: Membership) -> None:
    if not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers can browse creators but not follow or unfollow them."))


def _lock_follows(account: Account) -> None:
    """Serialise follows of one account, so two at once cannot both take the last slot."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, str(account.pk)])


def creator_follow(*, account: Account, actor: Membership, creator: Creator) -> AccountFollowedCreator:
    """Follow `creator` for the account. Already followed: unchanged. Past the plan's
    `creator_limit`: LimitReached (409 `plan_limit_reached`) and nothing changes."""
    _require_member(actor)
    if not creator.is_active:
        raise NotFound(gettext("There is no such creator."))
    with transaction.atomic():
        _lock_follows(account)
        follow = AccountFollowedCreator.objects.filter(account=account, creator=creator).first()
        if follow is not None and follow.is_active:
            return follow
        limit_check(account=account, name="creators", used=follows_count(account))
        if follow is None:
            return AccountFollowedCreator.objects.create(account=account, creator=creator, followed_by=actor.user)
        follow.is_active = True
        follow.followed_at = timezone.now()
        follow.followed_by = actor.user
        follow.save(update_fields=["is_active", "followed_at", "followed_by"])
        return follow


def creator_unfollow(*, account: Account, actor: Membership, creator: Creator) -> None:
    """Stop following `creator` (the row stays, inactive, and frees a slot)."""
    _require_member(actor)
    with transaction.atomic():
        changed = AccountFollowedCreator.objects.filter(account=account, creator=creator, is_active=True).update(
            is_active=False
        )
    if not changed:
        raise NotFound(gettext("Your account does not follow this creator."))


def creator_clean(values: dict) -> dict:
    """Normalise operator input: a handle without its @ or spaces."""
    username = values.get("username")
    if isinstance(username, str):
        values["username"] = username.strip().lstrip("@").strip()
    return values
