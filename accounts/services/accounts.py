from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import require_role
from accounts.models import Account, Membership, Role, User, UserPreferences, UserProfile
from accounts.plans import PLAN_LIMITS
from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput


@transaction.atomic
def account_create(
    *, name: str, owner: User, plan_type: str = Account.PlanType.INDIVIDUAL, is_personal: bool = False
) -> Account:
    """Create a tenant with `owner` as its first owner.

    The id is chosen here so the rows can be written inside the new tenant's own
    context: row-level security accepts them without any bypass.
    """
    name = name.strip()
    if not name:
        raise InvalidInput(_("An account needs a name."), fields={"name": [_("This field is required.")]})
    limits = PLAN_LIMITS[Account.PlanType(plan_type)]
    account_id = uuid.uuid4()
    with account_context(account_id):
        account = Account.objects.create(
            id=account_id,
            name=name[:255],
            plan_type=plan_type,
            is_personal=is_personal,
            billing_email=owner.email,
            creator_limit=limits.creator_limit,
            user_limit=limits.user_limit,
            voice_model_limit=limits.voice_model_limit,
            storage_limit_gb=limits.storage_limit_gb,
        )
        Membership.objects.create(account=account, user=owner, role=Role.OWNER)
    return account


@transaction.atomic
def account_settings_update(*, account: Account, actor: Membership, name: str, billing_email: str) -> Account:
    """An admin or owner renames the account or changes its billing email. The row's
    before and after land in the audit log (billing_auditlog, by the database trigger
    `accounts_account_audit` of billing migration 0016), with the acting user."""
    require_role(actor, Role.ADMIN, _("Only admins and owners can change the account."))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 255:
        errors["name"] = [_("At most 255 characters.")]
    billing_email = (billing_email or "").strip()
    if billing_email:
        try:
            validate_email(billing_email)
        except ValidationError:
            errors["billing_email"] = [_("Enter a valid email address.")]
    if errors:
        raise InvalidInput(_("Some fields are invalid."), fields=errors)
    with account_context(account.id):
        account.name, account.billing_email = name, billing_email
        account.save(update_fields=["name", "billing_email"])
    return account


@transaction.atomic
def user_onboard(*, user: User) -> Account:
    """Everything a new user gets: profile, preferences and a personal account."""
    UserProfile.objects.get_or_create(user=user)
    UserPreferences.objects.get_or_create(user=user)
    name = user.full_name or user.email.split("@")[0]
    return account_create(name=f"{name}'s workspace", owner=user, is_personal=True)
