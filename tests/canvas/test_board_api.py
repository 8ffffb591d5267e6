"""/api/v1/projects/{id}/board/: the board for programs. GET is what a reload sees;
POST applies one operation (the board socket's format) for project editors, with
the version rule, and open boards see it; viewers, archived projects and another
account's project change nothing."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from accounts.tenancy.context import account_context
from canvas.models import CanvasFolder, ProjectPermission
from tests.canvas.factories import CollaboratorFactory, FolderFactory, ProjectFactory


@pytest.fixture
def board(tenants, vera):
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    CollaboratorFactory(project=project, user=tenants.bob, permission_level=ProjectPermission.EDITOR)
    CollaboratorFactory(project=project, user=vera, permission_level=ProjectPermission.VIEWER)
    return project, FolderFactory(project=project, name="Hooks")


def _url(project) -> str:
    return f"/api/v1/projects/{project.pk}/board/"


@pytest.mark.django_db
def test_get_is_the_saved_board_with_versions(api_client, tenants, vera, board):
    project, folder = board
    api_client.force_login(vera)
    body = api_client.get(_url(project)).json()
    assert body["permission"] == "viewer"
    assert [(n["kind"], n["id"], n["version"]) for n in body["nodes"]] == [("folder", str(folder.pk), 1)]


@pytest.mark.django_db
def test_an_editor_creates_moves_and_connects_and_a_stale_move_is_a_409(api_client, tenants, board):
    project, folder = board
    api_client.force_login(tenants.bob)
    created = api_client.post(_url(project), {"op": "create", "kind": "chat_interface", "x": 10, "y": 20,
                                              "op_id": "c1"}, format="json")  # fmt: skip
    assert created.status_code == 200, created.json()
    chat = created.json()["node"]
    assert (created.json()["op"], created.json()["op_id"], chat["version"]) == ("create", "c1", 1)
    moved = api_client.post(_url(project), {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1,
                                            "x": 300, "y": 40}, format="json")  # fmt: skip
    assert moved.json()["node"]["version"] == 2
    stale = api_client.post(_url(project), {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1,
                                            "x": 0, "y": 0}, format="json")  # fmt: skip
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    assert stale.json()["error"]["current"]["x"] == 300.0
    joined = api_client.post(_url(project), {"op": "connect", "source": {"kind": "folder", "id": str(folder.pk)},
                                             "target": {"kind": "chat_interface", "id": chat["id"]}}, format="json")
    assert joined.status_code == 200, joined.json()
    snapshot = api_client.get(_url(project)).json()
    assert len(snapshot["connections"]) == 1 and len(snapshot["nodes"]) == 2


@pytest.mark.django_db
def test_a_viewer_an_archived_project_and_bad_ops_change_nothing(api_client, tenants, vera, board):
    project, folder = board
    move = {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": 5, "y": 5}
    api_client.force_login(vera)
    assert api_client.post(_url(project), move, format="json").status_code == 403
    api_client.force_login(tenants.bob)
    assert api_client.post(_url(project), {"op": "explode"}, format="json").status_code == 400
    assert api_client.post(_url(project), ["not", "an", "object"], format="json").status_code == 400
    with account_context(tenants.a.id):
        type(project).objects.filter(pk=project.pk).update(is_archived=True)
    archived = api_client.post(_url(project), move, format="json")
    assert archived.status_code == 409 and archived.json()["error"]["code"] == "archived"
    with account_context(tenants.a.id):
        assert CanvasFolder.objects.get(pk=folder.pk).version == 1


@pytest.mark.django_db
def test_another_accounts_board_is_a_404(api_client, tenants, board):
    theirs = ProjectFactory(account=tenants.b, created_by=tenants.carol)
    folder = FolderFactory(project=theirs)
    api_client.force_login(tenants.alice)
    assert api_client.get(_url(theirs)).status_code == 404
    move = {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": 5, "y": 5}
    assert api_client.post(_url(theirs), move, format="json").status_code == 404
    project, _ = board
    assert api_client.post(_url(project), move, format="json").status_code == 404  # their node on our board


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_operation_through_the_api_reaches_an_open_board(tenants, board):
    from rest_framework.test import APIClient

    from tests.canvas.test_board_consumer import open_board, receive_type

    project, folder = board
    socket, _ = await open_board(tenants.alice, project.pk)

    def post():
        client = APIClient()
        client.force_login(tenants.bob)
        return client.post(_url(project), {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1,
                                           "x": 42, "y": 7, "op_id": "api-1"}, format="json")  # fmt: skip

    response = await sync_to_async(post)()
    assert response.status_code == 200
    seen = await receive_type(socket, "applied")
    assert (seen["op_id"], seen["node"]["x"], seen["node"]["version"], seen["by"]["user_id"]) == (
        "api-1", 42.0, 2, str(tenants.bob.pk))  # fmt: skip
    await socket.disconnect()
