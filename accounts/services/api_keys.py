from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import require_role
from accounts.models import Account, ApiKey, Membership, Role
from accounts.models.access import token_digest
from aiplatform.errors import Conflict, Forbidden, InvalidInput

_ALPHABET = string.ascii_lowercase + string.digits


def _new_raw_key() -> tuple[str, str]:
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return prefix, f"{settings.API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


@transaction.atomic
def api_key_create(*, account: Account, actor: Membership, name: str, role: str = Role.MEMBER) -> tuple[ApiKey, str]:
    """Returns the key and its secret, which is shown once and never stored."""
    require_role(actor, Role.ADMIN, _("Only admins and owners can create API keys."))
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the key a name."), fields={"name": [_("This field is required.")]})
    try:
        role_enum = Role(role)
    except ValueError:
        raise InvalidInput(
            _("Unknown role '%(role)s'.") % {"role": role},
            fields={"role": [_("Choose one of %(roles)s.") % {"roles": ", ".join(Role.values)}]},
        )
    if role_enum.rank > actor.role_enum.rank:
        raise Forbidden(_("A key cannot have a role above yours."))
    prefix, raw = _new_raw_key()
    key = ApiKey.objects.create(
        account=account,
        name=name[:100],
        prefix=prefix,
        key_hash=token_digest(raw),
        role=role_enum,
        created_by=actor.user,
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, account: Account, actor: Membership, api_key: ApiKey) -> ApiKey:
    require_role(actor, Role.ADMIN, _("Only admins and owners can revoke API keys."))
    if api_key.revoked_at:
        raise Conflict(_("This key is already revoked."), code="already_revoked")
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(api_key: ApiKey) -> None:
    """Record use, at most once a minute per key to spare the row."""
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
