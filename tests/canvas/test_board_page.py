"""The board on a project's page: the page carries the board's snapshot (so it
draws before the socket opens) and says whether this member may change it; the
vendored libraries are served with their licences; its query count does not
grow with the board; `board_publish` reaches open boards."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tenancy.context import account_context
from canvas.models import ContentPiece, ProjectPermission
from canvas.services.board import board_group, board_publish
from tests.canvas.factories import (
    ChatInterfaceFactory,
    CollaboratorFactory,
    ConnectionFactory,
    ContentPieceFactory,
    FolderFactory,
    FolderItemFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

VENDOR = Path(settings.BASE_DIR) / "canvas" / "static" / "canvas" / "vendor"


def _board(page: str) -> dict:
    match = re.search(r'<script id="board-data" type="application/json">(.*?)</script>', page, re.S)
    assert match, "the page has no board data"
    return json.loads(match.group(1))


def _fill(project, n: int) -> None:
    for i in range(n):
        folder = FolderFactory(project=project, name=f"F{i}")
        FolderItemFactory(folder=folder)
        chat = ChatInterfaceFactory(project=project, chat_history=[{"role": "user", "content": f"q{i}"}])
        ConnectionFactory(project=project, target_chat_interface=chat)


def test_the_page_carries_the_snapshot_with_folder_counts_and_chat_history(client, tenants):
    # given a board with a folder holding two pieces and a chat with a history
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob,
                             canvas_data={"viewport": {"x": 5, "y": 6, "zoom": 1.5}})  # fmt: skip
    folder = FolderFactory(project=project, name="Hooks")
    FolderItemFactory(folder=folder)
    FolderItemFactory(folder=folder)
    chat = ChatInterfaceFactory(project=project, name="Ideas",
                                chat_history=[{"role": "user", "content": "Which hook?"}])  # fmt: skip
    client.force_login(tenants.bob)

    # when
    board = _board(client.get(f"/canvas/projects/{project.pk}/").content.decode())

    # then
    assert board["editable"] is True and board["permission"] == "owner"
    assert board["ws_path"] == f"/ws/canvas/{project.pk}/"
    assert board["api_url"] == f"/api/v1/projects/{project.pk}/"
    assert board["canvas_data"] == {"viewport": {"x": 5, "y": 6, "zoom": 1.5}}
    assert board["folder_items"] == {str(folder.pk): 2}
    nodes = {n["id"]: n for n in board["snapshot"]["nodes"]}
    assert nodes[str(chat.pk)]["history"] == [{"role": "user", "content": "Which hook?"}]
    assert nodes[str(folder.pk)]["title"] == "Hooks" and len(nodes) == 4  # the folder, its two pieces, the chat


def test_a_viewer_and_an_archived_project_get_a_read_only_board(client, tenants, vera):
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob)
    CollaboratorFactory(project=project, user=vera, permission_level=ProjectPermission.VIEWER)
    archived = ProjectFactory(account=tenants.a, created_by=tenants.bob, is_archived=True)

    client.force_login(vera)
    assert _board(client.get(f"/canvas/projects/{project.pk}/").content.decode())["editable"] is False
    client.force_login(tenants.bob)
    assert _board(client.get(f"/canvas/projects/{archived.pk}/").content.decode())["editable"] is False


def test_the_page_loads_the_vendored_libraries_which_ship_their_licences(client, tenants):
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob)
    client.force_login(tenants.bob)
    page = client.get(f"/canvas/projects/{project.pk}/").content.decode()
    for name in ("react-18.3.1.production.min.js", "react-dom-18.3.1.production.min.js", "jsx-runtime-shim.js",
                 "xyflow-react-12.12.1.umd.js", "xyflow-react-12.12.1.css"):  # fmt: skip
        assert f"canvas/vendor/{name}" in page
        assert (VENDOR / name).stat().st_size > 0
    for licence in ("LICENSE-react", "LICENSE-react-dom", "LICENSE-xyflow-react"):
        assert "MIT License" in (VENDOR / licence).read_text()
    assert "canvas/board.js" in page


@pytest.mark.parametrize("nodes", [2, 12])
def test_the_project_page_query_count_does_not_grow_with_the_board(client, tenants, nodes):
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob)
    _fill(project, nodes)
    client.force_login(tenants.bob)
    client.get(f"/canvas/projects/{project.pk}/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/canvas/projects/{project.pk}/").status_code == 200
    assert len(captured) == PROJECT_PAGE_QUERIES


# The request's tenancy, the project, its opening, collaborators and candidates, the base
# layout's switcher and badge, and the snapshot's five queries: the same for 2 and 12.
PROJECT_PAGE_QUERIES = 21  # the snapshot reads the pieces' latest jobs too


@pytest.mark.django_db(transaction=True)
def test_board_publish_reaches_an_open_board_after_commit(tenants):
    # given a layer channel in the project's group, and a piece being processed
    project = ProjectFactory(account=tenants.a, created_by=tenants.bob)
    piece = ContentPieceFactory(project=project, processing_status="processing")

    def finish_processing() -> None:  # a service reports the piece's new status
        with account_context(tenants.a.id):
            ContentPiece.objects.filter(pk=piece.pk).update(processing_status="completed")
            piece.refresh_from_db()
            board_publish(project=project, kind="content_piece", row=piece)

    async def scenario() -> dict:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(board_group(tenants.a.id, project.pk), channel)
        await sync_to_async(finish_processing)()
        return await asyncio.wait_for(layer.receive(channel), 5)

    # when
    message = async_to_sync(scenario)()

    # then the board hears of it, with the row as it is
    frame = message["frame"]
    assert (message["type"], frame["type"], frame["op"], frame["op_id"]) == ("board.applied", "applied", "update", None)
    assert frame["node"]["id"] == str(piece.pk) and frame["node"]["processing_status"] == "completed"
