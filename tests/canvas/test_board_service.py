"""`board_apply` and `board_snapshot`: each operation, the version rule, refusals."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection as db_connection

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput, NotFound
from canvas.models import CanvasConnection, CanvasFolder, CanvasFolderItem, ContentPiece, ProjectPermission
from canvas.services.board import board_apply, board_snapshot
from tests.canvas.factories import (
    ChatInterfaceFactory,
    CollaboratorFactory,
    ConnectionFactory,
    ContentPieceFactory,
    FolderFactory,
    ProjectFactory,
)


@pytest.fixture
def board(tenants):
    """Project P of account A: alice owns it (account owner), bob edits, vera views."""
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    CollaboratorFactory(project=project, user=tenants.bob, permission_level=ProjectPermission.EDITOR)
    return project


def apply(tenants, project, op, actor=None):
    with account_context(tenants.a.id):
        return board_apply(project=project, actor=actor or tenants.bob_membership, op=op)


def folder_of(tenants, pk):
    with account_context(tenants.a.id):
        return CanvasFolder.objects.get(pk=pk)


def test_create_folder_returns_the_node_at_version_1(tenants, board):
    # when
    result = apply(tenants, board, {"op": "create", "op_id": "c1", "kind": "folder", "x": 10, "y": 20.555,
                                    "w": 320, "h": 240, "title": " Hooks ", "color": "#ff0000"})  # fmt: skip

    # then
    assert (result.op, result.op_id) == ("create", "c1")
    node = result.node
    assert {k: v for k, v in node.items() if k != "id"} == {
        "kind": "folder", "version": 1, "deleted": False, "x": 10.0, "y": 20.56, "w": 320.0, "h": 240.0,
        "title": "Hooks", "color": "#FF0000", "collapsed": False,
    }  # fmt: skip
    stored = folder_of(tenants, node["id"])
    assert (stored.project_id, stored.name, stored.created_by_id) == (board.pk, "Hooks", tenants.bob.pk)


def test_create_chat_node_with_defaults(tenants, board):
    # when
    result = apply(tenants, board, {"op": "create", "kind": "chat_interface", "x": 0, "y": 0})

    # then
    assert (result.node["title"], result.node["w"], result.node["h"], result.node["version"]) == (
        "AI Chat", 400.0, 500.0, 1)  # fmt: skip


def test_move_bumps_the_version_and_saves_the_position(tenants, board):
    # given
    folder = FolderFactory(project=board)

    # when
    result = apply(tenants, board, {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1,
                                    "x": -5.5, "y": 300})  # fmt: skip

    # then
    assert (result.node["x"], result.node["y"], result.node["version"]) == (-5.5, 300.0, 2)
    stored = folder_of(tenants, folder.pk)
    assert (stored.position_x, stored.position_y, stored.version) == (Decimal("-5.50"), Decimal("300.00"), 2)


def test_move_of_a_content_piece(tenants, board):
    # given
    piece = ContentPieceFactory(project=board)

    # when
    result = apply(tenants, board, {"op": "move", "kind": "content_piece", "id": str(piece.pk), "version": 1,
                                    "x": 1, "y": 2})  # fmt: skip

    # then
    assert (result.node["kind"], result.node["x"], result.node["y"], result.node["version"]) == (
        "content_piece", 1.0, 2.0, 2)  # fmt: skip


def test_stale_version_is_refused_with_the_current_row_and_nothing_changes(tenants, board):
    # given a folder moved once (now version 2)
    folder = FolderFactory(project=board)
    apply(tenants, board, {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": 50, "y": 60})

    # when a second op based on version 1 arrives
    with pytest.raises(Conflict) as refused:
        apply(tenants, board, {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": 0, "y": 0})

    # then
    assert refused.value.code == "stale_version"
    current = refused.value.extra["current"]
    assert (current["version"], current["x"], current["y"]) == (2, 50.0, 60.0)
    stored = folder_of(tenants, folder.pk)
    assert (stored.position_x, stored.position_y, stored.version) == (Decimal("50.00"), Decimal("60.00"), 2)


def test_resize(tenants, board):
    # given
    chat = ChatInterfaceFactory(project=board)

    # when
    result = apply(tenants, board, {"op": "resize", "kind": "chat_interface", "id": str(chat.pk), "version": 1,
                                    "w": 640, "h": 480})  # fmt: skip

    # then
    assert (result.node["w"], result.node["h"], result.node["version"]) == (640.0, 480.0, 2)


@pytest.mark.parametrize(
    ("op", "field"),
    [
        ({"op": "resize", "kind": "folder", "version": 1, "w": 0, "h": 10}, "w"),
        ({"op": "resize", "kind": "folder", "version": 1, "w": 10, "h": "big"}, "h"),
        ({"op": "move", "kind": "folder", "version": 1, "x": 1e12, "y": 0}, "x"),
        ({"op": "move", "kind": "folder", "version": 1, "x": True, "y": 0}, "x"),
        ({"op": "move", "kind": "folder", "version": 0, "x": 1, "y": 0}, "version"),
        ({"op": "move", "kind": "table", "version": 1, "x": 1, "y": 0}, "kind"),
        ({"op": "fly", "kind": "folder", "version": 1}, "op"),
        ({"op": "update", "kind": "folder", "version": 1, "color": "red"}, "color"),
        ({"op": "update", "kind": "folder", "version": 1, "title": "  "}, "title"),
        ({"op": "update", "kind": "chat_interface", "version": 1, "color": "#000000"}, "color"),
        ({"op": "resize", "kind": "content_piece", "version": 1, "w": 1, "h": 1}, "kind"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_changes(tenants, board, op, field):
    # given
    folder = FolderFactory(project=board)
    chat = ChatInterfaceFactory(project=board)
    op = {**op, "id": str(chat.pk if op["kind"] == "chat_interface" else folder.pk)}

    # when
    with pytest.raises(InvalidInput) as refused:
        apply(tenants, board, op)

    # then
    assert list(refused.value.fields) == [field]
    assert folder_of(tenants, folder.pk).version == 1


def test_update_folder_style(tenants, board):
    # given
    folder = FolderFactory(project=board)

    # when
    result = apply(tenants, board, {"op": "update", "kind": "folder", "id": str(folder.pk), "version": 1,
                                    "title": "Ideas", "color": "#10b981", "collapsed": True})  # fmt: skip

    # then
    assert (result.node["title"], result.node["color"], result.node["collapsed"], result.node["version"]) == (
        "Ideas", "#10B981", True, 2)  # fmt: skip


def test_update_connection_style_merges(tenants, board):
    # given
    link = ConnectionFactory(project=board)

    # when
    result = apply(tenants, board, {"op": "update", "kind": "connection", "id": str(link.pk), "version": 1,
                                    "style": {"width": 4}})  # fmt: skip

    # then
    assert (result.node["style"], result.node["version"]) == ({"color": "#6B7280", "width": 4}, 2)


def test_delete_tombstones_the_node_and_its_connections_and_restore_brings_them_back(tenants, board):
    # given a piece connected to a chat node
    link = ConnectionFactory(project=board)
    piece_id = link.source_content_piece_id

    # when the piece is deleted
    deleted = apply(tenants, board, {"op": "delete", "kind": "content_piece", "id": str(piece_id), "version": 1})

    # then the piece and its connection are tombstones
    assert (deleted.node["deleted"], deleted.node["version"]) == (True, 2)
    assert [(r["id"], r["deleted"], r["version"]) for r in deleted.related] == [(str(link.pk), True, 2)]
    with account_context(tenants.a.id):
        assert ContentPiece.objects.get(pk=piece_id).deleted_at is not None
        assert CanvasConnection.objects.get(pk=link.pk).deleted_at is not None

    # and a late move of the deleted piece is told "deleted"
    with pytest.raises(Conflict) as late:
        apply(tenants, board, {"op": "move", "kind": "content_piece", "id": str(piece_id), "version": 2,
                               "x": 1, "y": 1})  # fmt: skip
    assert (late.value.code, late.value.extra["current"]["deleted"]) == ("deleted", True)

    # when it is restored
    restored = apply(tenants, board, {"op": "restore", "kind": "content_piece", "id": str(piece_id), "version": 2})

    # then the same ids come back, one version up
    assert (restored.node["id"], restored.node["deleted"], restored.node["version"]) == (str(piece_id), False, 3)
    assert [(r["id"], r["deleted"], r["version"]) for r in restored.related] == [(str(link.pk), False, 3)]


def test_restore_of_a_live_node_is_refused(tenants, board):
    # given
    folder = FolderFactory(project=board)

    # when
    with pytest.raises(Conflict) as refused:
        apply(tenants, board, {"op": "restore", "kind": "folder", "id": str(folder.pk), "version": 1})

    # then
    assert refused.value.code == "not_deleted"
    assert folder_of(tenants, folder.pk).version == 1


def test_connect_any_two_kinds(tenants, board):
    # given
    folder = FolderFactory(project=board)
    chat = ChatInterfaceFactory(project=board)

    # when
    result = apply(tenants, board, {"op": "connect", "source": {"kind": "folder", "id": str(folder.pk)},
                                    "target": {"kind": "chat_interface", "id": str(chat.pk)},
                                    "style": {"color": "#111111"}})  # fmt: skip

    # then
    node = result.node
    assert (node["kind"], node["version"], node["source"], node["target"], node["style"]) == (
        "connection", 1, {"kind": "folder", "id": str(folder.pk)}, {"kind": "chat_interface", "id": str(chat.pk)},
        {"color": "#111111", "width": 2})  # fmt: skip


def test_connecting_the_same_pair_twice_is_a_conflict(tenants, board):
    # given
    link = ConnectionFactory(project=board)
    op = {"op": "connect", "source": {"kind": "content_piece", "id": str(link.source_content_piece_id)},
          "target": {"kind": "chat_interface", "id": str(link.target_chat_interface_id)}}  # fmt: skip

    # when
    with pytest.raises(Conflict) as refused:
        apply(tenants, board, op)

    # then
    assert refused.value.code == "already_connected"
    with account_context(tenants.a.id):
        assert CanvasConnection.objects.filter(project=board).count() == 1


def test_connection_to_a_node_of_another_project_is_not_found(tenants, board):
    # given a chat node on another project of the same account
    folder = FolderFactory(project=board)
    elsewhere = ChatInterfaceFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice))

    # when
    with pytest.raises(NotFound):
        apply(tenants, board, {"op": "connect", "source": {"kind": "folder", "id": str(folder.pk)},
                               "target": {"kind": "chat_interface", "id": str(elsewhere.pk)}})  # fmt: skip

    # then
    with account_context(tenants.a.id):
        assert CanvasConnection.objects.count() == 0


def test_node_of_another_account_is_not_found(tenants, board):
    # given carol's folder in account B
    foreign = FolderFactory(project=ProjectFactory(account=tenants.b, created_by=tenants.carol))

    # when
    with pytest.raises(NotFound):
        apply(tenants, board, {"op": "move", "kind": "folder", "id": str(foreign.pk), "version": 1, "x": 1, "y": 1})

    # then
    with account_context(tenants.b.id):
        assert CanvasFolder.objects.get(pk=foreign.pk).version == 1


def test_viewer_is_refused_and_nothing_changes(tenants, board, vera):
    # given vera, an account viewer added as an editor (the account role caps her)
    CollaboratorFactory(project=board, user=vera, permission_level=ProjectPermission.EDITOR)
    folder = FolderFactory(project=board)
    with account_context(tenants.a.id):
        vera_m = Membership.objects.select_related("user").get(account=tenants.a, user=vera)

    # when
    with pytest.raises(Forbidden):
        apply(tenants, board, {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": 9, "y": 9},
              actor=vera_m)  # fmt: skip

    # then
    stored = folder_of(tenants, folder.pk)
    assert (stored.position_x, stored.version) == (Decimal("0.00"), 1)


def test_archived_project_refuses_board_edits(tenants, board):
    # given
    folder = FolderFactory(project=board)
    with account_context(tenants.a.id):
        board.is_archived = True
        board.save(update_fields=["is_archived"])

    # when
    with pytest.raises(Conflict) as refused:
        apply(tenants, board, {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": 9, "y": 9})

    # then
    assert refused.value.code == "archived"
    assert folder_of(tenants, folder.pk).version == 1


def test_snapshot_shows_exactly_the_saved_live_nodes(tenants, board):
    # given a moved folder, a deleted chat node and a connection
    folder = FolderFactory(project=board, name="Keep")
    gone = ChatInterfaceFactory(project=board)
    link = ConnectionFactory(project=board)
    apply(tenants, board, {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": 7, "y": 8})
    apply(tenants, board, {"op": "delete", "kind": "chat_interface", "id": str(gone.pk), "version": 1})

    # when
    with account_context(tenants.a.id):
        snapshot = board_snapshot(project=board, actor=tenants.bob_membership)

    # then
    assert snapshot.permission == "editor"
    by_id = {n["id"]: n for n in snapshot.nodes}
    assert set(by_id) == {str(folder.pk), str(link.source_content_piece_id), str(link.target_chat_interface_id)}
    assert (by_id[str(folder.pk)]["x"], by_id[str(folder.pk)]["y"], by_id[str(folder.pk)]["version"]) == (7.0, 8.0, 2)
    assert [(c["id"], c["version"]) for c in snapshot.connections] == [(str(link.pk), 1)]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_of_one_version_cannot_both_win(tenants):
    # given a folder at version 1 and two writers who both read version 1
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    folder = FolderFactory(project=project)
    barrier, outcomes = threading.Barrier(2), []

    def writer(x: int) -> None:
        try:
            barrier.wait(timeout=5)
            with account_context(tenants.a.id):
                op = {"op": "move", "kind": "folder", "id": str(folder.pk), "version": 1, "x": x, "y": 0}
                board_apply(project=project, actor=tenants.alice_membership, op=op)
            outcomes.append(("won", x))
        except Conflict as exc:
            outcomes.append((exc.code, x))
        finally:
            db_connection.close()

    # when
    threads = [threading.Thread(target=writer, args=(x,)) for x in (100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    # then exactly one won and the row holds its position at version 2
    assert sorted(o[0] for o in outcomes) == ["stale_version", "won"]
    winner = next(x for kind, x in outcomes if kind == "won")
    stored = folder_of(tenants, folder.pk)
    assert (stored.position_x, stored.version) == (Decimal(winner), 2)


def _filed(tenants, piece) -> list[tuple[str, int]]:
    with account_context(tenants.a.id):
        rows = CanvasFolderItem.objects.filter(content_piece=piece).values_list("folder_id", "sort_order")
        return [(str(folder), order) for folder, order in rows]


def test_a_piece_is_filed_at_the_end_of_a_folder_and_moved_between_folders(tenants, board):
    # given two folders; "hooks" already holds one piece
    hooks, rivals = FolderFactory(project=board), FolderFactory(project=board)
    piece = ContentPieceFactory(project=board)
    apply(tenants, board, {"op": "update", "kind": "content_piece", "id": str(ContentPieceFactory(project=board).pk),
                           "version": 1, "folder": str(hooks.pk)})  # fmt: skip

    # when the piece is dropped into hooks, then into rivals
    into_hooks = apply(tenants, board, {"op": "update", "kind": "content_piece", "id": str(piece.pk), "version": 1,
                                        "folder": str(hooks.pk)})  # fmt: skip
    first = _filed(tenants, piece)
    into_rivals = apply(tenants, board, {"op": "update", "kind": "content_piece", "id": str(piece.pk),
                                         "version": 2, "folder": str(rivals.pk)})  # fmt: skip

    # then it sat second in hooks, and now only in rivals; the piece's version moved each time
    assert first == [(str(hooks.pk), 1)]
    assert (into_hooks.node["folder"], into_hooks.node["version"]) == (str(hooks.pk), 2)
    assert (into_rivals.node["folder"], into_rivals.node["version"]) == (str(rivals.pk), 3)
    assert _filed(tenants, piece) == [(str(rivals.pk), 0)]
    with account_context(tenants.a.id):
        snapshot = board_snapshot(project=board, actor=tenants.bob_membership)
    assert snapshot.folder_items == {str(hooks.pk): 1, str(rivals.pk): 1}
    assert {n["id"]: n.get("folder") for n in snapshot.nodes if n["kind"] == "content_piece"}[str(piece.pk)] == str(
        rivals.pk
    )


def test_a_piece_taken_out_of_its_folder_is_in_none_and_a_stale_filing_loses(tenants, board):
    # given a piece filed in a folder (version 2)
    folder = FolderFactory(project=board)
    piece = ContentPieceFactory(project=board)
    apply(tenants, board, {"op": "update", "kind": "content_piece", "id": str(piece.pk), "version": 1,
                           "folder": str(folder.pk)})  # fmt: skip

    # when someone files it with the old version, then it is taken out with the current one
    with pytest.raises(Conflict) as stale:
        apply(tenants, board, {"op": "update", "kind": "content_piece", "id": str(piece.pk), "version": 1,
                               "folder": None})  # fmt: skip
    out = apply(tenants, board, {"op": "update", "kind": "content_piece", "id": str(piece.pk), "version": 2,
                                 "folder": None})  # fmt: skip

    # then the stale one changed nothing; the second took it out of every folder
    assert stale.value.code == "stale_version"
    assert (out.node["folder"], _filed(tenants, piece)) == (None, [])


def test_filing_into_a_deleted_or_foreign_folder_or_a_folder_into_a_folder_is_refused(tenants, board):
    # given a deleted folder, a folder of another project, and a piece
    gone = FolderFactory(project=board)
    apply(tenants, board, {"op": "delete", "kind": "folder", "id": str(gone.pk), "version": 1})
    elsewhere = FolderFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice))
    piece, folder = ContentPieceFactory(project=board), FolderFactory(project=board)

    def file(kind, pk, target):
        return apply(tenants, board, {"op": "update", "kind": kind, "id": str(pk), "version": 1, "folder": target})

    # then each is refused and nothing is filed
    with pytest.raises(Conflict) as deleted:
        file("content_piece", piece.pk, str(gone.pk))
    with pytest.raises(NotFound):
        file("content_piece", piece.pk, str(elsewhere.pk))
    with pytest.raises(InvalidInput) as folder_in_folder:
        file("folder", folder.pk, str(gone.pk))
    assert deleted.value.code == "deleted" and "folder" in folder_in_folder.value.fields
    assert _filed(tenants, piece) == []
