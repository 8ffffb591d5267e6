"""/api/v1/projects/ and /api/v1/project-collaborators/: the creator owns the
project, viewers never change anything, editors edit, only owners archive,
delete and manage collaborators (members of the account only), the last owner
stays; a project the member is not on, or of another account, is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from canvas.models import Project, ProjectCollaborator
from tests.accounts.factories import MembershipFactory
from tests.canvas.factories import CollaboratorFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _state(account) -> list[tuple]:
    """Every project of `account` with its collaborators: what a denied action must leave alone."""
    with account_context(account.id):
        return [
            (p.title, p.description, p.is_archived, p.canvas_data,
             sorted(ProjectCollaborator.objects.filter(project=p).values_list("user__email", "permission_level")))
            for p in Project.objects.filter(account=account).order_by("title")
        ]  # fmt: skip


@pytest.fixture
def board(tenants, vera, dan):
    """A project of account A owned by bob, with dan as editor and vera as viewer."""
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob, title="Launch", description="Q3 launch")
    CollaboratorFactory(project=project, user=dan, permission_level="editor")
    CollaboratorFactory(project=project, user=vera, permission_level="viewer")
    return project


def test_a_member_creates_a_project_and_owns_it(api_client, tenants):
    api_client.force_login(tenants.bob)
    response = api_client.post(
        "/api/v1/projects/",
        {
            "title": "  Summer reels ",
            "description": "Ideas",
            "canvas_data": {"viewport": {"x": 10, "y": -5, "zoom": 1.5}},
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["description"], body["is_archived"], body["my_permission"]) == (
        "Summer reels", "Ideas", False, "owner"
    )  # fmt: skip
    assert body["canvas_data"] == {"viewport": {"x": 10.0, "y": -5.0, "zoom": 1.5}}
    assert (body["created_by"]["email"], body["last_accessed_by"]["email"], body["collaborator_count"]) == (
        "bob@example.com", "bob@example.com", 1
    )  # fmt: skip
    assert _state(tenants.a) == [
        ("Summer reels", "Ideas", False, {"viewport": {"x": 10.0, "y": -5.0, "zoom": 1.5}},
         [("bob@example.com", "owner")]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x", "canvas_data": {"viewport": {"x": 1, "y": 2}}}, "canvas_data"),
        ({"title": "x", "canvas_data": {"viewport": {"x": 1, "y": 2, "zoom": 50}}}, "canvas_data"),
        ({"title": "x", "canvas_data": {"nodes": []}}, "canvas_data"),
        ({"title": "x", "canvas_data": [1, 2]}, "canvas_data"),
        ({"title": "x" * 256}, "title"),
    ],
)
def test_bad_project_input_is_a_400_and_creates_nothing(api_client, tenants, payload, field):
    api_client.force_login(tenants.bob)
    response = api_client.post("/api/v1/projects/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert _state(tenants.a) == []


def test_the_list_shows_my_projects_most_recently_opened_first(api_client, tenants, board, dan):
    # given a second project of dan's, opened earlier, and one dan is not on
    older = ProjectFactory(
        account=tenants.a, created_by=dan, title="Old", last_accessed_at=timezone.now() - timedelta(days=3)
    )
    ProjectFactory(account=tenants.a, created_by=tenants.bob, title="Bob only")
    api_client.force_login(dan)
    # when dan lists
    body = api_client.get("/api/v1/projects/").json()
    # then he sees the projects he is on, with his permission, newest access first
    assert [(p["title"], p["my_permission"]) for p in body["results"]] == [("Launch", "editor"), ("Old", "owner")]
    # when he opens the older one, it comes first and records him
    opened = api_client.post(f"/api/v1/projects/{older.pk}/open/")
    assert opened.status_code == 200 and opened.json()["last_accessed_by"]["email"] == "dan@example.com"
    assert [p["title"] for p in api_client.get("/api/v1/projects/").json()["results"]] == ["Old", "Launch"]


def test_account_owners_and_admins_see_and_own_every_project(api_client, tenants, board):
    api_client.force_login(tenants.alice)  # owner of account A, not a collaborator of Launch
    listed = api_client.get("/api/v1/projects/").json()["results"]
    assert [(p["title"], p["my_permission"]) for p in listed] == [("Launch", "owner")]
    assert api_client.patch(f"/api/v1/projects/{board.pk}/", {"title": "Launch v2"}, format="json").status_code == 200


def test_a_member_not_on_the_project_gets_a_404(api_client, tenants, board):
    outsider = MembershipFactory(account=tenants.a, role=Role.MEMBER).user
    api_client.force_login(outsider)
    before = _state(tenants.a)
    assert api_client.get("/api/v1/projects/").json()["count"] == 0
    for method, url in [("get", ""), ("patch", ""), ("delete", ""), ("post", "archive/"), ("post", "open/")]:
        assert getattr(api_client, method)(f"/api/v1/projects/{board.pk}/{url}").status_code == 404, (method, url)
    assert _state(tenants.a) == before


def test_an_editor_edits_but_does_not_archive_delete_or_manage(api_client, tenants, board, dan, vera):
    api_client.force_login(dan)
    changed = api_client.patch(
        f"/api/v1/projects/{board.pk}/",
        {"description": "Q3 launch, final", "canvas_data": {"viewport": {"x": 0, "y": 0, "zoom": 0.5}}},
        format="json",
    )
    assert changed.status_code == 200
    assert (changed.json()["description"], changed.json()["canvas_data"]["viewport"]["zoom"]) == (
        "Q3 launch, final", 0.5
    )  # fmt: skip
    before = _state(tenants.a)
    assert api_client.post(f"/api/v1/projects/{board.pk}/archive/").status_code == 403
    assert api_client.delete(f"/api/v1/projects/{board.pk}/").status_code == 403
    added = api_client.post(
        "/api/v1/project-collaborators/", {"project": str(board.pk), "user": str(tenants.alice.pk)}, format="json"
    )
    assert added.status_code == 403
    assert added.json()["error"]["message"] == "Only the project's owners can do this."
    assert _state(tenants.a) == before


@pytest.mark.parametrize("who", ["project_viewer", "account_viewer_with_editor_row"])
def test_viewers_never_change_anything(api_client, tenants, board, vera, who):
    if who == "account_viewer_with_editor_row":
        with account_context(tenants.a.id):
            ProjectCollaborator.objects.filter(project=board, user=vera).update(permission_level="editor")
    api_client.force_login(vera)
    before = _state(tenants.a)
    detail = api_client.get(f"/api/v1/projects/{board.pk}/")
    assert detail.status_code == 200 and detail.json()["my_permission"] == "viewer"
    responses = [
        api_client.patch(f"/api/v1/projects/{board.pk}/", {"title": "Mine now"}, format="json"),
        api_client.post(f"/api/v1/projects/{board.pk}/archive/"),
        api_client.delete(f"/api/v1/projects/{board.pk}/"),
        api_client.post("/api/v1/projects/", {"title": "New"}, format="json"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert _state(tenants.a) == before
    # opening is not a change: it only records the access
    assert api_client.post(f"/api/v1/projects/{board.pk}/open/").status_code == 200


def test_the_owner_archives_and_restores(api_client, tenants, board):
    api_client.force_login(tenants.bob)
    assert api_client.post(f"/api/v1/projects/{board.pk}/archive/").json()["is_archived"] is True
    assert api_client.get("/api/v1/projects/").json()["count"] == 0
    assert [p["title"] for p in api_client.get("/api/v1/projects/?archived=true").json()["results"]] == ["Launch"]
    assert api_client.post(f"/api/v1/projects/{board.pk}/restore/").json()["is_archived"] is False
    assert api_client.get("/api/v1/projects/").json()["count"] == 1


def test_the_owner_deletes_the_project(api_client, tenants, board):
    api_client.force_login(tenants.bob)
    assert api_client.delete(f"/api/v1/projects/{board.pk}/").status_code == 204
    assert _state(tenants.a) == []


def test_the_owner_manages_collaborators(api_client, tenants, board, dan, vera):
    api_client.force_login(tenants.bob)
    # add alice (a member of A) as a viewer
    added = api_client.post(
        "/api/v1/project-collaborators/",
        {"project": str(board.pk), "user": str(tenants.alice.pk), "permission_level": "viewer"},
        format="json",
    )
    assert added.status_code == 201
    assert (added.json()["user"]["email"], added.json()["permission_level"], added.json()["added_by"]["email"]) == (
        "alice@example.com", "viewer", "bob@example.com"
    )  # fmt: skip
    # adding her again is a conflict
    again = api_client.post(
        "/api/v1/project-collaborators/", {"project": str(board.pk), "user": str(tenants.alice.pk)}, format="json"
    )
    assert again.status_code == 409
    # promote dan to owner, then remove vera
    rows = {
        c["user"]["email"]: c["id"]
        for c in api_client.get(f"/api/v1/project-collaborators/?project={board.pk}").json()["results"]
    }
    promoted = api_client.patch(
        f"/api/v1/project-collaborators/{rows['dan@example.com']}/", {"permission_level": "owner"}, format="json"
    )
    assert promoted.json()["permission_level"] == "owner"
    assert api_client.delete(f"/api/v1/project-collaborators/{rows['vera@example.com']}/").status_code == 204
    assert _state(tenants.a)[0][4] == [
        ("alice@example.com", "viewer"), ("bob@example.com", "owner"), ("dan@example.com", "owner"),
    ]  # fmt: skip


def test_only_members_of_the_account_can_collaborate(api_client, tenants, board):
    api_client.force_login(tenants.bob)
    before = _state(tenants.a)
    response = api_client.post(
        "/api/v1/project-collaborators/", {"project": str(board.pk), "user": str(tenants.carol.pk)}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["user"] == [
        "Only members of this account can collaborate on its projects; invite them to the account first."
    ]
    assert _state(tenants.a) == before


def test_the_last_owner_stays(api_client, tenants, board):
    api_client.force_login(tenants.bob)
    rows = {
        c["user"]["email"]: c["id"]
        for c in api_client.get(f"/api/v1/project-collaborators/?project={board.pk}").json()["results"]
    }
    before = _state(tenants.a)
    demote = api_client.patch(
        f"/api/v1/project-collaborators/{rows['bob@example.com']}/", {"permission_level": "editor"}, format="json"
    )
    remove = api_client.delete(f"/api/v1/project-collaborators/{rows['bob@example.com']}/")
    assert (demote.status_code, remove.status_code) == (409, 409)
    assert demote.json()["error"]["message"] == "A project needs an owner: make someone else an owner first."
    assert _state(tenants.a) == before


def test_a_collaborator_may_leave_but_not_remove_others(api_client, tenants, board, vera):
    api_client.force_login(vera)
    rows = {
        c["user"]["email"]: c["id"]
        for c in api_client.get(f"/api/v1/project-collaborators/?project={board.pk}").json()["results"]
    }
    before = _state(tenants.a)
    assert api_client.delete(f"/api/v1/project-collaborators/{rows['dan@example.com']}/").status_code == 403
    assert _state(tenants.a) == before
    assert api_client.delete(f"/api/v1/project-collaborators/{rows['vera@example.com']}/").status_code == 204
    assert api_client.get(f"/api/v1/projects/{board.pk}/").status_code == 404


def test_another_accounts_project_is_a_404_and_untouched(api_client, tenants):
    theirs = ProjectFactory(account=tenants.b, created_by=tenants.carol, title="Secret plan")
    api_client.force_login(tenants.alice)
    before = _state(tenants.b)
    assert api_client.get(f"/api/v1/projects/{theirs.pk}/").status_code == 404
    assert api_client.patch(f"/api/v1/projects/{theirs.pk}/", {"title": "x"}, format="json").status_code == 404
    assert api_client.post(f"/api/v1/projects/{theirs.pk}/archive/").status_code == 404
    added = api_client.post(
        "/api/v1/project-collaborators/", {"project": str(theirs.pk), "user": str(tenants.alice.pk)}, format="json"
    )
    assert added.status_code == 404
    assert "Secret plan" not in api_client.get("/api/v1/projects/").content.decode()
    assert _state(tenants.b) == before
