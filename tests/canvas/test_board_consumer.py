"""The board websocket (`ws/canvas/<project_id>/`) through the real ASGI stack.

`aiplatform.asgi.application` runs whole (origin check, session and auth
middleware, router, consumer); frames between sockets travel over the
channels_redis layer on the embedded Redis. Data is committed: transactional.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.asgi import application
from canvas.models import CanvasConnection, CanvasFolder, ProjectPermission
from tests.canvas.factories import ChatInterfaceFactory, CollaboratorFactory, FolderFactory, ProjectFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://testserver")
TIMEOUT = 5  # seconds; each step normally takes milliseconds
QUIET = 0.5  # how long "nothing arrives" is watched for


@database_sync_to_async
def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def communicator(project_id, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [ORIGIN] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, f"/ws/canvas/{project_id}/", headers=headers)


async def open_board(user, project_id) -> tuple[WebsocketCommunicator, dict]:
    """Connect `user` to the board; return the socket and its snapshot frame."""
    socket = communicator(project_id, await session_cookie(user))
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert (connected, code) == (True, None)
    snapshot = await socket.receive_json_from(timeout=TIMEOUT)
    assert snapshot["type"] == "snapshot"
    return socket, snapshot


async def receive_type(socket, kind: str) -> dict:
    """The next frame of type `kind` (presence frames may come first)."""
    while True:
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == kind:
            return frame


async def board_frames(socket, *, presence: bool = False) -> list[dict]:
    """What arrives within QUIET, without presence frames unless asked. (With the
    pub/sub layer a socket may hear of a join made just before its own: presence
    frames can repeat, the client keys them by client_id.)"""
    frames = []
    while not await socket.receive_nothing(timeout=QUIET):
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        if presence or frame["type"] not in ("join", "here", "leave"):
            frames.append(frame)
    return frames


async def pair(tenants, project) -> tuple[WebsocketCommunicator, WebsocketCommunicator]:
    """alice and bob on the board, with the join/here exchange done."""
    alice, _ = await open_board(tenants.alice, project.pk)
    bob, _ = await open_board(tenants.bob, project.pk)
    await receive_type(alice, "join")
    await receive_type(bob, "here")
    return alice, bob


@database_sync_to_async
def stored_folder(tenants, pk) -> CanvasFolder:
    with account_context(tenants.a.id):
        return CanvasFolder.objects.get(pk=pk)


@pytest.fixture
def board(tenants):
    """Project P of account A with one folder: alice owns P (account owner), bob edits."""
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    CollaboratorFactory(project=project, user=tenants.bob, permission_level=ProjectPermission.EDITOR)
    folder = FolderFactory(project=project, name="Hooks")
    return project, folder


async def test_snapshot_on_connect_has_every_live_node_with_its_version(tenants, board):
    # given
    project, folder = board

    # when
    socket, snapshot = await open_board(tenants.bob, project.pk)

    # then
    assert (snapshot["project_id"], snapshot["permission"], snapshot["you"]["user_id"]) == (
        str(project.pk), "editor", str(tenants.bob.pk))  # fmt: skip
    assert [(n["kind"], n["id"], n["version"], n["title"]) for n in snapshot["nodes"]] == [
        ("folder", str(folder.pk), 1, "Hooks")
    ]
    assert snapshot["connections"] == []
    await socket.disconnect()


async def test_a_move_by_one_client_reaches_the_other_with_the_new_version(tenants, board):
    # given
    project, folder = board
    alice, bob = await pair(tenants, project)

    # when bob moves the folder
    await bob.send_json_to({"type": "op", "op_id": "m1", "op": "move", "kind": "folder", "id": str(folder.pk),
                            "version": 1, "x": 120, "y": 80})  # fmt: skip

    # then alice gets it with version 2, bob gets the same frame as his acknowledgement
    seen = await receive_type(alice, "applied")
    ack = await receive_type(bob, "applied")
    assert seen == ack
    assert (seen["op"], seen["op_id"], seen["by"]["user_id"]) == ("move", "m1", str(tenants.bob.pk))
    assert (seen["node"]["id"], seen["node"]["x"], seen["node"]["y"], seen["node"]["version"]) == (
        str(folder.pk), 120.0, 80.0, 2)  # fmt: skip
    stored = await stored_folder(tenants, folder.pk)
    assert (stored.position_x, stored.version) == (Decimal("120.00"), 2)
    await alice.disconnect()
    await bob.disconnect()


async def test_second_op_on_the_old_version_is_refused_with_the_current_row(tenants, board):
    # given both at version 1; alice's move wins first
    project, folder = board
    alice, bob = await pair(tenants, project)
    await alice.send_json_to({"type": "op", "op_id": "a1", "op": "move", "kind": "folder", "id": str(folder.pk),
                              "version": 1, "x": 10, "y": 10})  # fmt: skip
    await receive_type(alice, "applied")
    await receive_type(bob, "applied")

    # when bob's move, made against version 1, arrives
    await bob.send_json_to({"type": "op", "op_id": "b1", "op": "move", "kind": "folder", "id": str(folder.pk),
                            "version": 1, "x": 999, "y": 999})  # fmt: skip

    # then bob alone is told, with the row to rebase on, and nothing changed
    error = await receive_type(bob, "error")
    assert (error["op_id"], error["code"]) == ("b1", "stale_version")
    assert (error["current"]["version"], error["current"]["x"], error["current"]["y"]) == (2, 10.0, 10.0)
    assert await board_frames(alice) == []
    stored = await stored_folder(tenants, folder.pk)
    assert (stored.position_x, stored.version) == (Decimal("10.00"), 2)
    await alice.disconnect()
    await bob.disconnect()


async def test_viewer_op_is_refused_and_nothing_changes(tenants, board, vera):
    # given vera, an account viewer on the project
    project, folder = board
    await database_sync_to_async(CollaboratorFactory)(
        project=project, user=vera, permission_level=ProjectPermission.VIEWER
    )
    alice, _ = await open_board(tenants.alice, project.pk)
    viewer, snapshot = await open_board(vera, project.pk)
    await receive_type(alice, "join")
    assert snapshot["permission"] == "viewer"

    # when
    await viewer.send_json_to({"type": "op", "op_id": "v1", "op": "move", "kind": "folder", "id": str(folder.pk),
                               "version": 1, "x": 5, "y": 5})  # fmt: skip

    # then
    error = await receive_type(viewer, "error")
    assert (error["op_id"], error["code"]) == ("v1", "permission_denied")
    assert await board_frames(alice) == []
    stored = await stored_folder(tenants, folder.pk)
    assert (stored.position_x, stored.version) == (Decimal("0.00"), 1)
    await alice.disconnect()
    await viewer.disconnect()


async def test_connection_to_a_node_of_another_project_is_refused(tenants, board):
    # given a chat node on another project of the same account
    project, folder = board
    other = await database_sync_to_async(ProjectFactory)(account=tenants.a, created_by=tenants.alice)
    elsewhere = await database_sync_to_async(ChatInterfaceFactory)(project=other)
    bob, _ = await open_board(tenants.bob, project.pk)

    # when
    await bob.send_json_to({"type": "op", "op_id": "c1", "op": "connect",
                            "source": {"kind": "folder", "id": str(folder.pk)},
                            "target": {"kind": "chat_interface", "id": str(elsewhere.pk)}})  # fmt: skip

    # then
    error = await receive_type(bob, "error")
    assert (error["op_id"], error["code"]) == ("c1", "not_found")

    @database_sync_to_async
    def connections() -> int:
        with account_context(tenants.a.id):
            return CanvasConnection.objects.count()

    assert await connections() == 0
    await bob.disconnect()


async def test_bad_input_gets_an_error_frame_with_fields(tenants, board):
    # given
    project, folder = board
    bob, _ = await open_board(tenants.bob, project.pk)

    # when
    await bob.send_json_to({"type": "op", "op": "resize", "kind": "folder", "id": str(folder.pk), "version": 1,
                            "w": -1, "h": 10})  # fmt: skip

    # then
    error = await receive_type(bob, "error")
    assert (error["code"], list(error["fields"])) == ("validation_error", ["w"])
    await bob.disconnect()


async def test_malformed_frames_get_an_error_and_the_socket_stays_open(tenants, board):
    # given
    project, folder = board
    bob, _ = await open_board(tenants.bob, project.pk)

    # when
    await bob.send_to(text_data="{not json")
    await bob.send_json_to(["op"])
    await bob.send_json_to({"type": "cursor", "x": "left", "y": 0})

    # then each gets an error, and the socket still works
    codes = [(await receive_type(bob, "error"))["code"] for _ in range(3)]
    assert codes == ["bad_frame", "unknown_frame", "validation_error"]
    await bob.send_json_to({"type": "op", "op_id": "ok", "op": "move", "kind": "folder", "id": str(folder.pk),
                            "version": 1, "x": 1, "y": 1})  # fmt: skip
    assert (await receive_type(bob, "applied"))["node"]["version"] == 2
    await bob.disconnect()


async def test_outsider_cannot_connect(tenants, board):
    # given carol of account B, and a project id that does not exist
    project, _ = board

    # when / then: another account's project and an unknown one close alike
    for project_id in (project.pk, uuid.uuid4()):
        socket = communicator(project_id, await session_cookie(tenants.carol))
        assert await socket.connect(timeout=TIMEOUT) == (False, 4404)


async def test_member_not_on_the_project_cannot_connect(tenants, board, dan):
    # given dan, a member of A who is not a collaborator of P
    project, _ = board
    socket = communicator(project.pk, await session_cookie(dan))

    # when / then
    assert await socket.connect(timeout=TIMEOUT) == (False, 4404)


async def test_anonymous_cannot_connect(board):
    # given no session
    project, _ = board

    # when / then
    assert await communicator(project.pk).connect(timeout=TIMEOUT) == (False, 4401)


async def test_cursor_presence_reaches_the_other_client_only(tenants, board):
    # given
    project, _ = board
    alice, bob = await pair(tenants, project)

    # when
    await bob.send_json_to({"type": "cursor", "x": 12.5, "y": -3})

    # then
    cursor = await receive_type(alice, "cursor")
    assert (cursor["user"]["user_id"], cursor["user"]["name"], cursor["x"], cursor["y"]) == (
        str(tenants.bob.pk), tenants.bob.full_name, 12.5, -3.0)  # fmt: skip
    assert [f for f in await board_frames(bob, presence=True) if f["type"] == "cursor"] == []
    await alice.disconnect()
    await bob.disconnect()


async def test_join_here_and_leave_carry_the_users(tenants, board):
    # given alice on the board
    project, _ = board
    alice, _ = await open_board(tenants.alice, project.pk)

    # when bob joins, then leaves
    bob, _ = await open_board(tenants.bob, project.pk)
    joined = await receive_type(alice, "join")
    here = await receive_type(bob, "here")
    await bob.disconnect()
    left = await receive_type(alice, "leave")

    # then
    assert (joined["user"]["user_id"], here["user"]["user_id"], left["user"]["user_id"]) == (
        str(tenants.bob.pk), str(tenants.alice.pk), str(tenants.bob.pk))  # fmt: skip
    assert joined["user"]["client_id"] == left["user"]["client_id"]
    await alice.disconnect()


async def test_reload_shows_the_saved_state(tenants, board):
    # given bob creates a chat node, connects the folder to it and moves the folder
    project, folder = board
    bob, _ = await open_board(tenants.bob, project.pk)
    await bob.send_json_to({"type": "op", "op_id": "n", "op": "create", "kind": "chat_interface", "x": 400, "y": 0})
    chat = (await receive_type(bob, "applied"))["node"]
    await bob.send_json_to({"type": "op", "op_id": "c", "op": "connect",
                            "source": {"kind": "folder", "id": str(folder.pk)},
                            "target": {"kind": "chat_interface", "id": chat["id"]}})  # fmt: skip
    link = (await receive_type(bob, "applied"))["node"]
    await bob.send_json_to({"type": "op", "op_id": "m", "op": "move", "kind": "folder", "id": str(folder.pk),
                            "version": 1, "x": 33, "y": 44})  # fmt: skip
    await receive_type(bob, "applied")
    await bob.disconnect()

    # when alice opens the board afresh
    alice, snapshot = await open_board(tenants.alice, project.pk)

    # then
    nodes = {n["id"]: n for n in snapshot["nodes"]}
    assert (nodes[str(folder.pk)]["x"], nodes[str(folder.pk)]["y"], nodes[str(folder.pk)]["version"]) == (
        33.0, 44.0, 2)  # fmt: skip
    assert (nodes[chat["id"]]["x"], nodes[chat["id"]]["version"]) == (400.0, 1)
    assert snapshot["connections"] == [link]
    await alice.send_json_to({"type": "sync"})
    again = await receive_type(alice, "snapshot")
    assert (again["nodes"], again["connections"]) == (snapshot["nodes"], snapshot["connections"])
    await alice.disconnect()


async def test_removed_collaborator_is_refused_on_the_next_op(tenants, board):
    # given bob connected, then removed from the project
    project, folder = board
    bob, _ = await open_board(tenants.bob, project.pk)

    @database_sync_to_async
    def remove_bob() -> None:
        with account_context(tenants.a.id):
            project.collaborators.filter(user=tenants.bob).delete()
            assert Membership.objects.filter(account=tenants.a, user=tenants.bob).exists()

    await remove_bob()

    # when
    await bob.send_json_to({"type": "op", "op_id": "x", "op": "move", "kind": "folder", "id": str(folder.pk),
                            "version": 1, "x": 1, "y": 1})  # fmt: skip

    # then
    error = await receive_type(bob, "error")
    assert (error["op_id"], error["code"]) == ("x", "not_found")
    assert (await stored_folder(tenants, folder.pk)).version == 1
    await bob.disconnect()


async def test_a_move_and_a_resize_take_the_one_statement_path(tenants, board, monkeypatch):
    # given the general (thread) path made to fail loudly
    project, folder = board
    from canvas import consumers

    def general(*args):
        raise AssertionError("a move went through the general path")

    monkeypatch.setattr(consumers, "_apply", general)
    alice, bob = await pair(tenants, project)

    # when bob moves, then resizes the folder
    await bob.send_json_to({"type": "op", "op_id": "m1", "op": "move", "kind": "folder", "id": str(folder.pk),
                            "version": 1, "x": 12.345, "y": -7})  # fmt: skip
    moved = await receive_type(alice, "applied")
    await bob.send_json_to({"type": "op", "op_id": "r1", "op": "resize", "kind": "folder", "id": str(folder.pk),
                            "version": 2, "w": 640, "h": 480})  # fmt: skip
    resized = await receive_type(alice, "applied")

    # then the frames are the general path's: the whole node (rounded as stored) with its new version
    assert (moved["op"], moved["op_id"], moved["by"]["user_id"], moved["related"]) == (
        "move", "m1", str(tenants.bob.pk), [])  # fmt: skip
    assert {k: moved["node"][k] for k in ("kind", "id", "version", "deleted", "x", "y", "title")} == {
        "kind": "folder", "id": str(folder.pk), "version": 2, "deleted": False, "x": 12.35, "y": -7.0,
        "title": "Hooks"}  # fmt: skip
    assert set(moved["node"]) == {"kind", "id", "version", "deleted", "x", "y", "w", "h", "title", "color",
                                  "collapsed"}  # fmt: skip
    assert (resized["node"]["w"], resized["node"]["h"], resized["node"]["version"]) == (640.0, 480.0, 3)
    stored = await stored_folder(tenants, folder.pk)
    assert (stored.position_x, stored.width, stored.version) == (Decimal("12.35"), Decimal("640.00"), 3)
    await alice.disconnect()
    await bob.disconnect()


async def test_a_move_the_fast_path_cannot_apply_gets_the_general_paths_answer(tenants, board):
    # given an archived project: the one statement changes nothing
    project, folder = board

    @database_sync_to_async
    def archive() -> None:
        with account_context(tenants.a.id):
            type(project).objects.filter(pk=project.pk).update(is_archived=True)

    bob, _ = await open_board(tenants.bob, project.pk)
    await archive()

    # when
    await bob.send_json_to({"type": "op", "op_id": "z", "op": "move", "kind": "folder", "id": str(folder.pk),
                            "version": 1, "x": 1, "y": 1})  # fmt: skip

    # then the general path says why, and nothing changed
    error = await receive_type(bob, "error")
    assert (error["op_id"], error["code"]) == ("z", "archived")
    assert (await stored_folder(tenants, folder.pk)).version == 1
    await bob.disconnect()
