"""Fixtures of the canvas tests."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory


@pytest.fixture
def dan(tenants):
    """Another member of account A."""
    user = UserFactory(email="dan@example.com")
    MembershipFactory(account=tenants.a, user=user, role=Role.MEMBER)
    return user
