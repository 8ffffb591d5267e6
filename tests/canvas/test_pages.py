"""The projects page (/canvas/) and a project's page: sorted by last access,
create, archive, the collaborators panel; viewers see no controls and their
posts change nothing; a project the member is not on is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tenancy.context import account_context
from canvas.models import Project, ProjectCollaborator
from tests.canvas.factories import CollaboratorFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _collaborators(project) -> list[tuple[str, str]]:
    with account_context(project.account_id):
        return sorted(
            ProjectCollaborator.objects.filter(project=project).values_list("user__email", "permission_level")
        )


def test_the_projects_page_lists_mine_by_last_access(client, tenants, dan):
    ProjectFactory(
        account=tenants.a, created_by=dan, title="Older", last_accessed_at=timezone.now() - timedelta(days=2)
    )
    ProjectFactory(account=tenants.a, created_by=dan, title="Newer")
    ProjectFactory(account=tenants.a, created_by=tenants.bob, title="Not mine")
    client.force_login(dan)
    page = client.get("/canvas/").content.decode()
    assert page.index("Newer") < page.index("Older")
    assert "Not mine" not in page
    assert 'data-testid="project-new"' in page


def test_creating_from_the_page_opens_the_new_project(client, tenants):
    client.force_login(tenants.bob)
    response = client.post("/canvas/new/", {"title": "Reels", "description": "Ideas"}, follow=True)
    with account_context(tenants.a.id):
        project = Project.objects.get()
    assert response.redirect_chain[-1][0] == f"/canvas/projects/{project.pk}/"
    page = response.content.decode()
    assert "Created “Reels”." in page and 'id="board-data"' in page
    assert _collaborators(project) == [("bob@example.com", "owner")]


def test_an_empty_title_is_refused_with_a_message(client, tenants):
    client.force_login(tenants.bob)
    page = client.post("/canvas/new/", {"title": "  "}, follow=True).content.decode()
    assert "A title is required." in page
    with account_context(tenants.a.id):
        assert Project.objects.count() == 0


def test_opening_a_project_records_the_access(client, tenants, dan):
    project = ProjectFactory(
        account=tenants.a, created_by=tenants.bob, last_accessed_at=timezone.now() - timedelta(days=5)
    )
    CollaboratorFactory(project=project, user=dan, permission_level="viewer")
    client.force_login(dan)
    assert client.get(f"/canvas/projects/{project.pk}/").status_code == 200
    with account_context(tenants.a.id):
        project.refresh_from_db()
    assert project.last_accessed_by == dan
    assert timezone.now() - project.last_accessed_at < timedelta(minutes=1)


def test_the_owner_archives_and_manages_collaborators_from_the_pages(client, tenants, dan):
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob, title="Launch")
    client.force_login(tenants.bob)
    page = client.get(f"/canvas/projects/{project.pk}/").content.decode()
    assert 'data-testid="collaborator-add"' in page and "dan@example.com" in page
    client.post(f"/canvas/projects/{project.pk}/collaborators/", {"user": str(dan.pk), "permission_level": "viewer"})
    assert _collaborators(project) == [("bob@example.com", "owner"), ("dan@example.com", "viewer")]
    with account_context(tenants.a.id):
        dan_row = ProjectCollaborator.objects.get(project=project, user=dan)
    client.post(f"/canvas/collaborators/{dan_row.pk}/", {"permission_level": "editor"})
    assert _collaborators(project) == [("bob@example.com", "owner"), ("dan@example.com", "editor")]
    client.post(f"/canvas/collaborators/{dan_row.pk}/remove/")
    assert _collaborators(project) == [("bob@example.com", "owner")]
    # archive: it leaves the list, shows among the archived, and can be restored
    client.post(f"/canvas/projects/{project.pk}/archive/")
    assert "Launch" not in client.get("/canvas/").content.decode()
    assert "Launch" in client.get("/canvas/?archived=1").content.decode()
    client.post(f"/canvas/projects/{project.pk}/restore/")
    assert "Launch" in client.get("/canvas/").content.decode()


def test_a_viewer_sees_no_controls_and_changes_nothing(client, tenants, dan, vera):
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob, title="Launch")
    dan_row = CollaboratorFactory(project=project, user=dan, permission_level="editor")
    CollaboratorFactory(project=project, user=vera, permission_level="viewer")
    client.force_login(vera)
    page = client.get(f"/canvas/projects/{project.pk}/").content.decode()
    assert 'data-testid="project-edit"' not in page and 'data-testid="collaborator-add"' not in page
    before = _collaborators(project)
    client.post(f"/canvas/projects/{project.pk}/edit/", {"title": "Mine"})
    client.post(f"/canvas/projects/{project.pk}/archive/")
    client.post(f"/canvas/collaborators/{dan_row.pk}/", {"permission_level": "viewer"})
    client.post(f"/canvas/collaborators/{dan_row.pk}/remove/")
    response = client.post(
        f"/canvas/projects/{project.pk}/collaborators/", {"user": str(tenants.alice.pk)}, follow=True
    )
    assert "Only the project&#x27;s owners can do this." in response.content.decode()
    with account_context(tenants.a.id):
        project.refresh_from_db()
    assert (project.title, project.is_archived, _collaborators(project)) == ("Launch", False, before)


def test_an_archived_project_cannot_be_edited(client, tenants):
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob, title="Old", is_archived=True)
    client.force_login(tenants.bob)
    response = client.post(f"/canvas/projects/{project.pk}/edit/", {"title": "New"}, follow=True)
    assert "This project is archived: restore it to change it." in response.content.decode()
    with account_context(tenants.a.id):
        project.refresh_from_db()
    assert project.title == "Old"


def test_a_project_i_am_not_on_is_a_404(client, tenants, dan):
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob)
    client.force_login(dan)
    assert client.get(f"/canvas/projects/{project.pk}/").status_code == 404
    assert client.post(f"/canvas/projects/{project.pk}/archive/").status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
def test_the_projects_page_query_count_does_not_grow(client, tenants, rows):
    for _ in range(rows):
        CollaboratorFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.bob), user=tenants.alice)
    client.force_login(tenants.bob)
    client.get("/canvas/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/canvas/").status_code == 200
    assert len(captured) == PROJECTS_PAGE_QUERIES


# Pinned at today's count (the request's tenancy set-up, the projects in one query,
# the base layout's account switcher and credits badge), the same for 3 and 30 rows.
PROJECTS_PAGE_QUERIES = 9
