"""The app shell: the sidebar built from workspace.navigation, the icons, the empty
states that teach, and where a user lands after signing in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import RequestFactory

from accounts.models import Role
from tests.accounts.factories import AccountFactory, MembershipFactory
from workspace.navigation import NAVIGATION, Entry, Group, sections_for
from workspace.templatetags.shell import icon_names

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _request(path, user, account=None, role=None):
    request = RequestFactory().get(path)
    request.user, request.account, request.account_role = user, account, role
    return request


def _keys(sections) -> list[str]:
    return [link.key for section in sections for link in section.links]


def test_an_entry_whose_url_does_not_exist_is_left_out(tenants):
    # given a navigation with a product whose URLs are not installed
    navigation = (
        Group("studio", "Studio", "palette", (
            Entry("canvas", "Canvas", "pen-tool", ("canvas:projects",)),
            Entry("future", "Future product", "sparkles", ("future:index", "also_missing")),
        )),
        Group("empty", "Nothing here", "x", (Entry("gone", "Gone", "x", ("nope:index",)),)),
    )  # fmt: skip
    sections = sections_for(_request("/canvas/", tenants.alice, tenants.a, Role.OWNER), navigation)
    # then only the installed entry shows, and a group left empty disappears
    assert [(s.key, _keys([s])) for s in sections] == [("studio", ["canvas"])]
    assert sections[0].links[0].url == "/canvas/" and sections[0].links[0].active


def test_role_dependent_entries_follow_the_role(tenants):
    owner = _keys(sections_for(_request("/dashboard/", tenants.alice, tenants.a, Role.OWNER)))
    member = _keys(sections_for(_request("/dashboard/", tenants.bob, tenants.a, Role.MEMBER)))
    assert {"api_keys", "connected"} <= set(owner)
    assert "api_keys" not in member and "connected" not in member
    assert set(member) == set(owner) - {"api_keys", "connected"}


def test_the_current_section_is_the_longest_matching_url(tenants):
    def active(path):
        sections = sections_for(_request(path, tenants.alice, tenants.a, Role.OWNER))
        return [link.key for s in sections for link in s.links if link.active]

    assert active("/knowledge/units/123/") == ["knowledge"]
    assert active("/inbox/products/") == ["products"]
    assert active("/inbox/conversations/1/") == ["inbox"]
    assert active("/billing/usage/") == ["usage"]
    assert active("/settings/profile/") == ["settings"]
    assert active("/") == []


def test_the_page_shows_the_sidebar_with_the_current_entry_marked(client, tenants):
    client.force_login(tenants.bob)
    html = client.get("/knowledge/").content.decode()
    assert 'data-testid="sidebar"' in html
    assert re.search(r'class="nav-link active" href="/knowledge/" data-nav="knowledge"[^>]*aria-current="page"', html)
    assert 'data-nav="api_keys"' not in html  # bob is a member
    assert "rank >=" not in html


def test_every_icon_the_templates_name_is_in_the_sprite():
    names = set()
    for path in ROOT.glob("*/templates/**/*.html"):
        text = path.read_text()
        names |= set(re.findall(r'{%\s*icon\s+"([a-z0-9-]+)"', text))
        names |= set(re.findall(r'with icon="([a-z0-9-]+)"', text))
        names |= set(re.findall(r'action_icon="([a-z0-9-]+)"', text))
    for group in NAVIGATION:
        names |= {group.icon, *(e.icon for e in group.entries)}
    from workspace.templatetags.shell import DEFAULT_SERVICE_ICON, SERVICE_ICONS

    names |= {*SERVICE_ICONS.values(), DEFAULT_SERVICE_ICON}
    assert names and names - icon_names() == set()


def test_the_sprite_ships_with_its_licence():
    icons = ROOT / "aiplatform" / "static" / "icons"
    assert "ISC License" in (icons / "LICENSE").read_text()
    assert len(icon_names()) >= 40


def test_service_cards_draw_svg_icons_not_emoji(client, tenants):
    client.force_login(tenants.alice)
    html = client.get("/services/").content.decode()
    assert "icons/sprite.svg#" in html
    assert not re.search("[\U0001f300-\U0001faff\u2600-\u27bf]", html)


@pytest.mark.parametrize(
    ("path", "testid", "action"),
    [
        ("/knowledge/", "empty-units", "#new-unit"),
        ("/personas/?scope=account", None, None),
        ("/services/history/", "empty-results", "/services/"),
        ("/settings/api-keys/", "empty-api-keys", None),
        ("/inbox/products/", "empty-products", "/inbox/products/new/"),
        ("/inbox/orders/", "empty-orders", "/inbox/products/"),
        ("/canvas/", "empty-projects", None),
        ("/billing/", "empty-ledger", "#buy"),
        ("/chats/", "empty-chat-personas", "/personas/new/"),
        ("/canvas/builder/", "empty-campaigns", "#new-campaign"),
        ("/canvas/integrations/", "empty-publications", "/canvas/builder/"),
        ("/canvas/analyses/", "empty-analyses", "#new-analysis"),
    ],
)
def test_an_empty_list_says_what_it_is_for_and_how_to_start(client, tenants, path, testid, action):
    client.force_login(tenants.alice)
    html = client.get(path).content.decode()
    if testid is None:  # a filtered list says only that nothing matches
        assert 'class="empty-state' not in html
        return
    block = re.search(rf'<div class="empty-state[^"]*" data-testid="{testid}">(.*?)</div>', html, re.S)
    assert block, html[-3000:]
    assert "<h2>" in block.group(1) and "<p>" in block.group(1)
    if action:
        assert f'href="{action}"' in block.group(1)


def test_a_viewer_is_not_offered_an_action_they_cannot_take(client, tenants):
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    client.force_login(viewer)
    html = client.get("/knowledge/").content.decode()
    assert 'data-testid="empty-units"' in html and 'href="#new-unit"' not in html


def test_signing_in_lands_in_the_team_account_not_the_personal_one(client, tenants):
    # given alice has a personal workspace besides her team account A
    from accounts.services.accounts import user_onboard

    user_onboard(user=tenants.alice)
    tenants.alice.set_password("pw-123456789")
    tenants.alice.save()

    # when she signs in
    response = client.post("/auth/login/", {"login": tenants.alice.email, "password": "pw-123456789"})

    # then the team account is the active one
    assert response.status_code == 302
    html = client.get("/dashboard/").content.decode()
    assert '<h2 data-testid="active-account">Account A</h2>' in html


def test_a_user_with_only_a_personal_account_lands_there(client, db):
    from accounts.services.accounts import user_onboard
    from tests.accounts.factories import UserFactory

    user = UserFactory(email="solo@example.com", full_name="Solo")
    user.set_password("pw-123456789")
    user.save()
    user_onboard(user=user)
    AccountFactory(name="Somebody else's team")  # not hers
    client.post("/auth/login/", {"login": user.email, "password": "pw-123456789"})
    assert "Solo&#x27;s workspace" in client.get("/dashboard/").content.decode()
