"""Fixtures of the persona tests: a registry model, a viewer, an operator, and
personas of every kind in accounts A (alice owns, bob is a member) and B (carol)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Membership, Role, User
from personas.models import Persona
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.personas.factories import PersonaFactory, PlatformPersonaFactory, registry_model


@pytest.fixture
def persona_model(db):
    return registry_model()


@pytest.fixture
def viewer(tenants) -> Membership:
    """vera, a viewer of account A."""
    return MembershipFactory(account=tenants.a, user=UserFactory(email="vera@example.com"), role=Role.VIEWER)


@pytest.fixture
def operator(db) -> User:
    return UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True)


@dataclass
class Personas:
    platform: Persona  # public platform persona
    draft: Persona  # platform persona, not public
    alices: Persona  # account A, created by alice (owner)
    bobs: Persona  # account A, created by bob (member)
    carols: Persona  # account B


@pytest.fixture
def personas(tenants, persona_model) -> Personas:
    return Personas(
        platform=PlatformPersonaFactory(name="Logistics Strategy", role_title="Freight strategist",
                                        system_prompt="PLATFORM-SECRET-PROMPT stays with the operators."),
        draft=PlatformPersonaFactory(name="Unreleased Expert", is_public=False,
                                     system_prompt="DRAFT-SECRET-PROMPT not released yet."),
        alices=PersonaFactory(account=tenants.a, created_by=tenants.alice, name="Alice Advisor",
                              role_title="Pricing analyst", system_prompt="ALICE-SECRET-PROMPT for pricing."),
        bobs=PersonaFactory(account=tenants.a, created_by=tenants.bob, name="Bob Helper",
                            role_title="Route planner", system_prompt="BOB-SECRET-PROMPT for routes."),
        carols=PersonaFactory(account=tenants.b, created_by=tenants.carol, name="Carol Coach",
                              role_title="TikTok expert", system_prompt="CAROL-SECRET-PROMPT of account B."),
    )  # fmt: skip
