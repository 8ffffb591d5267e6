"""Row-level security on personas: an account's rows stay in the account, public
platform rows are readable by everyone and writable by no tenant."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import NotFound
from personas.models import Persona
from personas.selectors import persona_get_for_account, personas_visible_to
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def _names_by_sql() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM personas_persona ORDER BY name")
        return [row[0] for row in cur.fetchall()]


def test_without_a_tenant_only_public_platform_personas_are_visible(personas):
    assert _names_by_sql() == ["Logistics Strategy"]


def test_in_an_account_raw_sql_sees_its_own_and_the_public_platform_personas(tenants, personas):
    with account_context(tenants.a.id):
        assert _names_by_sql() == ["Alice Advisor", "Bob Helper", "Logistics Strategy"]
    with account_context(tenants.b.id):
        assert _names_by_sql() == ["Carol Coach", "Logistics Strategy"]


def test_a_tenant_cannot_write_a_platform_persona_or_into_another_account(tenants, personas):
    with account_context(tenants.a.id):
        # an update of the public platform row matches nothing: reading it is all a tenant may do
        with connection.cursor() as cur:
            cur.execute("UPDATE personas_persona SET name = 'Hijacked' WHERE account_id IS NULL")
            assert cur.rowcount == 0
        for account_id in (None, tenants.b.id):
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO personas_persona (id, account_id, name, role_title, system_prompt, model_config,"
                        " icon_url, is_public, created_at, updated_at) VALUES (gen_random_uuid(), %s, 'x', 'x', 'x',"
                        " '{}', '', false, now(), now())",
                        [account_id],
                    )
    with rls_bypass("test: read back"):
        assert sorted(Persona.objects.values_list("name", flat=True)) == [
            "Alice Advisor", "Bob Helper", "Carol Coach", "Logistics Strategy", "Unreleased Expert",
        ]  # fmt: skip


def test_an_account_persona_cannot_be_public(tenants, persona_model):
    with pytest.raises(IntegrityError, match="personas_account_persona_not_public"), transaction.atomic():
        PersonaFactory(account=tenants.a, is_public=True)


def test_selectors_scope_to_the_account_and_answer_not_found_for_anything_else(tenants, personas):
    with account_context(tenants.a.id):
        assert [p.name for p in personas_visible_to(tenants.a)] == ["Logistics Strategy", "Alice Advisor", "Bob Helper"]
        assert persona_get_for_account(tenants.a, personas.platform.id).name == "Logistics Strategy"
        for foreign in (personas.carols.id, personas.draft.id, "not-a-uuid"):
            with pytest.raises(NotFound, match="There is no such persona."):
                persona_get_for_account(tenants.a, foreign)
