"""Fixtures of the canvas tests."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory


@pytest.fixture
def vera(tenants):
    """A viewer of account A (besides alice, its owner, and bob, a member)."""
    user = UserFactory(email="vera@example.com")
    MembershipFactory(account=tenants.a, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def dan(tenants):
    """Another member of account A."""
    user = UserFactory(email="dan@example.com")
    MembershipFactory(account=tenants.a, user=user, role=Role.MEMBER)
    return user
