"""A persona reads the decision units an account links to it, and only that
account's: the link is the account's own, and chats retrieve through it."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Forbidden, NotFound
from personas.models import PersonaDecisionUnit
from personas.passages import persona_passages
from personas.services import persona_unit_ids, persona_units_set
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.knowledge import factories as kf
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def test_an_owner_links_units_and_relinking_replaces_the_set(tenants):
    # given two units of account A and A's persona
    t = tenants
    with account_context(t.a.id):
        first, second = kf.DecisionUnitFactory(account=t.a), kf.DecisionUnitFactory(account=t.a)
        persona = PersonaFactory(account=t.a, created_by=t.alice)
    # when the owner links both, then only the second
    persona_units_set(persona=persona, actor=t.alice_membership, unit_ids=[first.pk, second.pk])
    persona_units_set(persona=persona, actor=t.alice_membership, unit_ids=[second.pk])
    # then the persona reads the second only
    assert persona_unit_ids(persona=persona, account=t.a) == [second.pk]


def test_a_foreign_unit_cannot_be_linked(tenants):
    # given a unit of account B
    t = tenants
    with account_context(t.b.id):
        foreign = kf.DecisionUnitFactory(account=t.b)
    with account_context(t.a.id):
        persona = PersonaFactory(account=t.a, created_by=t.alice)
    # when A's owner tries to link it
    with pytest.raises(NotFound):
        persona_units_set(persona=persona, actor=t.alice_membership, unit_ids=[foreign.pk])
    # then nothing is linked
    with account_context(t.a.id):
        assert PersonaDecisionUnit.objects.count() == 0


def test_a_platform_persona_takes_an_accounts_units_only_from_its_admins(tenants):
    # given a public platform persona and a unit of A
    t = tenants
    platform = PersonaFactory(account=None, is_public=True, created_by=None)
    with account_context(t.a.id):
        unit = kf.DecisionUnitFactory(account=t.a)
        member = MembershipFactory(account=t.a, user=UserFactory(), role=Role.MEMBER)
    # when a member tries, then it is refused; the owner may
    with pytest.raises(Forbidden):
        persona_units_set(persona=platform, actor=member, unit_ids=[unit.pk])
    persona_units_set(persona=platform, actor=t.alice_membership, unit_ids=[unit.pk])
    # then A's link is invisible to B
    assert persona_unit_ids(persona=platform, account=t.a) == [unit.pk]
    assert persona_unit_ids(persona=platform, account=t.b) == []


def test_a_persona_without_units_retrieves_nothing(tenants):
    t = tenants
    with account_context(t.a.id):
        persona = PersonaFactory(account=t.a, created_by=t.alice)
    assert persona_passages(account=t.a, persona=persona, query="margins") == []
