"""The services apply the role rules themselves, so every entry point (API,
pages, a future chat) refuses the same things."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Forbidden
from personas.models import Persona
from personas.rules import persona_can_edit
from personas.services import persona_create, persona_delete, persona_update
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.personas.factories import MODEL

pytestmark = pytest.mark.django_db

CONFIG = {"model": MODEL, "temperature": 1, "max_tokens": 10}


def _names() -> list[str]:
    with rls_bypass("test: read back"):
        return sorted(Persona.objects.values_list("name", flat=True))


def test_a_member_creates_and_the_row_is_private_and_theirs(tenants, persona_model):
    with account_context(tenants.a.id):
        persona = persona_create(account=tenants.a, actor=tenants.bob_membership, name=" Planner ",
                                 role_title="Routes", system_prompt="Plan routes.", model_config=CONFIG)  # fmt: skip
    assert (persona.name, persona.account_id, persona.created_by_id, persona.is_public) == (
        "Planner", tenants.a.id, tenants.bob.id, False,
    )  # fmt: skip
    assert persona.model_config == {"model": MODEL, "temperature": 1.0, "max_tokens": 10}


def test_a_membership_of_another_account_cannot_create_here(tenants, persona_model):
    with pytest.raises(Forbidden):
        persona_create(account=tenants.a, actor=tenants.carol_membership, name="X", role_title="X",
                       system_prompt="X", model_config=CONFIG)  # fmt: skip
    assert _names() == []


def test_a_member_demoted_to_viewer_can_no_longer_edit_what_they_created(tenants, personas):
    with account_context(tenants.a.id):
        tenants.bob_membership.role = Role.VIEWER
        tenants.bob_membership.save()
    assert persona_can_edit(personas.bobs, tenants.bob_membership) is False
    with pytest.raises(Forbidden, match="Only owners, admins and the persona's creator"):
        persona_update(persona=personas.bobs, actor=tenants.bob_membership, name="Renamed")
    assert "Renamed" not in _names()


def test_an_admin_edits_and_deletes_any_account_persona(tenants, personas):
    admin = MembershipFactory(account=tenants.a, user=UserFactory(), role=Role.ADMIN)
    persona_update(persona=personas.alices, actor=admin, name="Alice Advisor II")
    persona_delete(persona=personas.bobs, actor=admin)
    assert _names() == ["Alice Advisor II", "Carol Coach", "Logistics Strategy", "Unreleased Expert"]


def test_platform_personas_are_never_changed_through_tenant_services(tenants, personas):
    with pytest.raises(Forbidden, match="managed by the platform's operators"):
        persona_update(persona=personas.platform, actor=tenants.alice_membership, name="Mine now")
    with pytest.raises(Forbidden, match="managed by the platform's operators"):
        persona_delete(persona=personas.platform, actor=tenants.alice_membership)
    assert "Logistics Strategy" in _names() and "Mine now" not in _names()


def test_an_owner_of_another_account_cannot_touch_this_accounts_persona(tenants, personas):
    with pytest.raises(Forbidden):
        persona_delete(persona=personas.alices, actor=tenants.carol_membership)
    assert "Alice Advisor" in _names()
