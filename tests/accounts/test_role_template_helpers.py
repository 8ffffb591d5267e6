"""Role-dependent template bits come from the context (active_role_at_least.<role>,
can_manage_account, a member row's `manageable`), never from comparing rank numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template

from accounts.context_processors import RoleAtLeast
from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory

ROLES = [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER]


@pytest.mark.parametrize("role", ROLES)
def test_the_helper_says_whether_the_active_role_is_at_least_the_named_one(role):
    rendered = Template(
        "{% if a.owner %}O{% endif %}{% if a.admin %}A{% endif %}{% if a.member %}M{% endif %}"
        "{% if a.viewer %}V{% endif %}{% if a.ownr %}typo{% endif %}"
    ).render(Context({"a": RoleAtLeast(role)}))
    expected = "".join(letter for letter, r in zip("OAMV", ROLES, strict=True) if role.at_least(r))
    assert rendered == expected


def test_without_an_active_account_nothing_is_allowed():
    assert Template("{% if a.viewer %}yes{% endif %}").render(Context({"a": RoleAtLeast(None)})) == ""


def test_no_template_compares_role_rank_numbers():
    base = Path(settings.BASE_DIR)
    roots = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "tests"]
    offenders = [
        f"{path.relative_to(base)}:{n}"
        for root in roots
        for path in root.rglob("*.html")
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if re.search(r"\.rank\b", line)
    ]
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize("role, owner_row, member_row", [(Role.OWNER, False, True), (Role.ADMIN, False, True)])
def test_an_admin_may_change_members_but_not_the_owner(client, tenants, role, owner_row, member_row):
    # given someone with `role` in A (alice owns it, bob is a member)
    user = tenants.alice if role == Role.OWNER else UserFactory(email="admin@example.com")
    if role == Role.ADMIN:
        MembershipFactory(account=tenants.a, user=user, role=role)
    client.force_login(user)

    # when they open the members page
    html = client.get("/settings/members/").content.decode()

    # then the role form is offered on the rows they rank at or above, never on their own
    def has_role_form(email: str) -> bool:
        return f'aria-label="Role of {email}"' in html

    assert has_role_form("alice@example.com") is owner_row
    assert has_role_form("bob@example.com") is member_row
    assert ("Remove alice@example.com?" in html) is False
    assert "Remove bob@example.com?" in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_dashboard_context_carries_the_helper(client, tenants, role):
    user = tenants.alice if role == Role.OWNER else UserFactory(email=f"{role.value}@example.com")
    if role != Role.OWNER:
        MembershipFactory(account=tenants.a, user=user, role=role)
    client.force_login(user)
    response = client.get("/dashboard/")
    helper = response.context["active_role_at_least"]
    assert [helper[r.value] for r in ROLES] == [role.at_least(r) for r in ROLES]
    assert response.context["can_manage_account"] is role.at_least(Role.ADMIN)
