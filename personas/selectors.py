"""Reads of personas. The account comes first; a persona the account cannot see
is NotFound (404), whether it is missing, another account's, or a platform draft."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.errors import NotFound

from .models import Persona, PersonaDecisionUnit

if TYPE_CHECKING:
    from knowledge.models import DecisionUnit

SCOPES = ("platform", "account")


def personas_visible_to(account: Account | None, *, scope: str | None = None, search: str = "") -> QuerySet[Persona]:
    """Public platform personas and the account's own, platform ones first.

    `scope` narrows to "platform" or "account"; `search` matches name or role title.
    """
    platform = Q(account__isnull=True, is_public=True)
    own = Q(account=account) if account is not None else Q(pk__in=[])
    where = {"platform": platform, "account": own}.get(scope or "", platform | own)
    queryset = Persona.objects.filter(where)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(role_title__icontains=search))
    return queryset.order_by(F("account_id").asc(nulls_first=True), "name", "id")


def persona_get_for_account(account: Account | None, persona_id: UUID | str) -> Persona:
    try:
        return personas_visible_to(account).get(pk=persona_id)
    except (Persona.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(gettext("There is no such persona."))


def persona_unit_choices(account: Account) -> QuerySet[DecisionUnit]:
    """The account's decision units a persona can be given, with document counts, by name."""
    from knowledge.selectors import units_for_account  # knowledge builds on personas, not the reverse

    return units_for_account(account)


def persona_units(account: Account, persona: Persona) -> QuerySet[DecisionUnit]:
    """The account's decision units this persona reads, like `persona_unit_choices`
    (one query, however many)."""
    linked = PersonaDecisionUnit.objects.filter(account=account, persona=persona).values("decision_unit_id")
    return persona_unit_choices(account).filter(pk__in=linked)
