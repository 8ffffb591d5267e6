"""Role changes and removals. Rules:

* admins and owners manage members; nobody acts on someone ranked above them or
  grants a role above their own;
* every member may leave;
* an account always keeps at least one owner.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import require_role
from accounts.models import Account, Membership, Role
from aiplatform.errors import Conflict, Forbidden, InvalidInput


def _lock_owners(account: Account) -> int:
    # Locking the owner rows serialises concurrent demotions/removals of owners.
    return len(list(Membership.objects.for_account(account).filter(role=Role.OWNER).select_for_update()))


def _check_manage(actor: Membership, target: Membership) -> None:
    require_role(actor, Role.ADMIN, _("Only admins and owners can manage members."))
    if target.role_enum.rank > actor.role_enum.rank:
        raise Forbidden(_("You cannot change a member whose role is above yours."))


@transaction.atomic
def membership_change_role(*, account: Account, actor: Membership, membership: Membership, role: str) -> Membership:
    try:
        new_role = Role(role)
    except ValueError:
        raise InvalidInput(
            _("Unknown role '%(role)s'.") % {"role": role},
            fields={"role": [_("Choose one of %(roles)s.") % {"roles": ", ".join(Role.values)}]},
        )
    _check_manage(actor, membership)
    if new_role.rank > actor.role_enum.rank:
        raise Forbidden(_("You cannot grant a role above your own."))
    if membership.role == Role.OWNER and new_role != Role.OWNER and _lock_owners(account) <= 1:
        raise Conflict(_("An account needs at least one owner. Make someone else an owner first."), code="last_owner")
    membership.role = new_role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, account: Account, actor: Membership, membership: Membership) -> None:
    if membership.pk != actor.pk:
        _check_manage(actor, membership)
    if membership.role == Role.OWNER and _lock_owners(account) <= 1:
        raise Conflict(
            _("The last owner cannot leave or be removed. Make someone else an owner first."), code="last_owner"
        )
    membership.delete()
