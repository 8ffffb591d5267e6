"""Chat nodes: an answer reads the connected pieces and folders, streams to every
open board, and is paid for from a hold (reserved before, settled after).

The model is the loopback OpenAI-compatible server (tests/support/model_server.py)
behind the real gateway; the sockets run the real ASGI stack over the Redis layer.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from accounts.tenancy.context import account_context
from billing.models import Reservation
from canvas.models import ChatInterface, ProjectPermission
from canvas.services.chat_nodes import chat_node_context
from tests.billing.factories import fund, wallet
from tests.canvas.factories import (
    AnalysisFactory,
    ChatInterfaceFactory,
    CollaboratorFactory,
    ConnectionFactory,
    ContentPieceFactory,
    FolderFactory,
    FolderItemFactory,
    ProjectFactory,
)
from tests.canvas.test_board_consumer import TIMEOUT, open_board, receive_type

pytestmark = [pytest.mark.django_db(transaction=True)]

ANSWER = "The hook names the pain in two seconds."


@pytest.fixture
def studio(tenants, chat_model):
    """Project P of account A: a chat node connected to a piece (with a transcript and
    an analysis) and to a folder holding another piece; a third piece not connected."""
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    CollaboratorFactory(project=project, user=tenants.bob, permission_level=ProjectPermission.EDITOR)
    chat = ChatInterfaceFactory(project=project, name="Ideas", ai_model_preference="test-model")
    piece = ContentPieceFactory(project=project, title="Lane 4 reel", transcript="Trucks idle for six hours at dock 9.")
    AnalysisFactory(content_piece=piece, hook_analysis="Opens on the idle trucks.", analysis_status="completed",
                    engagement_score=Decimal("81.50"))  # fmt: skip
    ConnectionFactory(project=project, source_content_piece=piece, target_chat_interface=chat)
    folder = FolderFactory(project=project, name="Competitors")
    rival = ContentPieceFactory(project=project, title="Rival short", transcript="Same-day freight, guaranteed.")
    FolderItemFactory(folder=folder, content_piece=rival)
    ConnectionFactory(project=project, source_chat_interface=chat, target_folder=folder, source_content_piece=None,
                      target_chat_interface=None)  # fmt: skip
    ContentPieceFactory(project=project, title="Unrelated", transcript="Cats on a conveyor belt.")
    return project, chat, piece, folder


def test_the_context_has_the_connected_pieces_and_the_folders_contents_only(tenants, studio):
    # given
    project, chat, piece, folder = studio

    # when
    with account_context(tenants.a.id):
        context = chat_node_context(project=project, chat=chat)

    # then
    assert "Trucks idle for six hours at dock 9." in context.text
    assert "Hook analysis: Opens on the idle trucks." in context.text
    assert "Engagement score: 81.50" in context.text
    assert "Folder “Competitors” (1 pieces)" in context.text and "Same-day freight, guaranteed." in context.text
    assert "Cats on a conveyor belt." not in context.text
    assert context.read == [{"kind": "content_piece", "id": str(piece.pk)}, {"kind": "folder", "id": str(folder.pk)}]


@database_sync_to_async
def _state(tenants, chat):
    with account_context(tenants.a.id):
        stored = ChatInterface.objects.get(pk=chat.pk)
        holds = list(Reservation.objects.filter(account=tenants.a, reference_type="canvas_chat"))
        return stored, holds, wallet(tenants.a).balance


@pytest.mark.asyncio
async def test_an_answer_reads_the_connected_content_streams_to_both_boards_and_is_charged(
    tenants, studio, model_server
):
    # given alice and bob on the board, 100 credits
    project, chat, piece, folder = studio
    await database_sync_to_async(fund)(tenants.a, "100")
    model_server.reply(ANSWER)
    alice, _ = await open_board(tenants.alice, project.pk)
    bob, _ = await open_board(tenants.bob, project.pk)

    # when alice asks the chat node
    await alice.send_json_to({"type": "chat", "op_id": "q1", "chat_id": str(chat.pk), "text": "What hooks work?"})

    # then both boards see the question, the answer token by token, and the end
    for socket in (alice, bob):
        started = await receive_type(socket, "chat_started")
        assert started["chat_id"] == str(chat.pk)
        assert started["question"]["content"] == "What hooks work?"
        assert started["read"] == [
            {"kind": "content_piece", "id": str(piece.pk)},
            {"kind": "folder", "id": str(folder.pk)},
        ]
        text = ""
        while True:
            frame = await socket.receive_json_from(timeout=TIMEOUT)
            if frame["type"] == "chat_token":
                text += frame["text"]
            elif frame["type"] == "chat_done":
                break
        assert text == ANSWER
        assert frame["status"] == "ok" and frame["answer"]["content"] == ANSWER
    # and the model was given the connected content, not the unconnected piece
    system = model_server.requests[-1]["messages"][0]["content"]
    assert "Trucks idle for six hours at dock 9." in system and "Same-day freight, guaranteed." in system
    assert "Cats on a conveyor belt." not in system
    assert model_server.requests[-1]["messages"][-1] == {"role": "user", "content": "What hooks work?"}
    # and the history holds both messages, the hold was settled with what the answer cost
    stored, holds, balance = await _state(tenants, chat)
    assert [(m["role"], m["content"]) for m in stored.chat_history] == [
        ("user", "What hooks work?"),
        ("assistant", ANSWER),
    ]
    assert len(holds) == 1 and holds[0].status == Reservation.Status.SETTLED
    charged = Decimal(stored.chat_history[1]["credits"])
    assert charged > 0 and balance == Decimal("100") - charged
    assert stored.version == chat.version  # an answer is not a board edit
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.asyncio
async def test_a_viewer_cannot_ask_and_nothing_is_held_or_stored(tenants, studio, vera, model_server):
    # given vera, a viewer of the project
    project, chat, *_ = studio
    await database_sync_to_async(fund)(tenants.a, "100")
    await database_sync_to_async(CollaboratorFactory)(project=project, user=vera, permission_level="viewer")
    socket, snapshot = await open_board(vera, project.pk)
    assert snapshot["permission"] == "viewer"

    # when she asks
    await socket.send_json_to({"type": "chat", "op_id": "q1", "chat_id": str(chat.pk), "text": "Hello?"})

    # then she is refused, and nothing is asked, held or stored
    error = await receive_type(socket, "error")
    assert (error["op_id"], error["code"]) == ("q1", "permission_denied")
    stored, holds, balance = await _state(tenants, chat)
    assert stored.chat_history == [] and holds == [] and balance == Decimal("100")
    assert model_server.requests == []
    await socket.disconnect()


@pytest.mark.asyncio
async def test_without_credits_the_question_is_refused_with_402_and_nothing_changes(tenants, studio, model_server):
    # given an empty wallet
    project, chat, *_ = studio
    socket, _ = await open_board(tenants.alice, project.pk)

    # when alice asks
    await socket.send_json_to({"type": "chat", "op_id": "q1", "chat_id": str(chat.pk), "text": "Hello?"})

    # then
    error = await receive_type(socket, "error")
    assert (error["op_id"], error["code"]) == ("q1", "insufficient_credits")
    stored, holds, _ = await _state(tenants, chat)
    assert stored.chat_history == [] and holds == []
    assert model_server.requests == []
    await socket.disconnect()


@pytest.mark.asyncio
async def test_a_provider_failure_is_shown_and_charges_nothing(tenants, studio, model_server):
    # given the model fails
    project, chat, *_ = studio
    await database_sync_to_async(fund)(tenants.a, "100")
    model_server.fail(500, times=5)
    socket, _ = await open_board(tenants.alice, project.pk)

    # when alice asks
    await socket.send_json_to({"type": "chat", "op_id": "q1", "chat_id": str(chat.pk), "text": "Hello?"})

    # then the board is told, the hold is closed uncharged, and the failure is in the history
    done = await receive_type(socket, "chat_done")
    assert done["status"] == "failed" and "ask again" in done["message"]
    stored, holds, balance = await _state(tenants, chat)
    assert [m["role"] for m in stored.chat_history] == ["user", "assistant"]
    assert stored.chat_history[1]["status"] == "failed" and stored.chat_history[1]["credits"] == "0.0000"
    assert len(holds) == 1 and holds[0].status != Reservation.Status.HELD
    assert balance == Decimal("100")
    await socket.disconnect()


@pytest.mark.asyncio
async def test_an_empty_question_or_a_chat_of_another_project_is_refused(tenants, studio):
    # given a chat node on another project of the same account
    project, chat, *_ = studio
    other = await database_sync_to_async(ChatInterfaceFactory)(
        project=await database_sync_to_async(ProjectFactory)(account=tenants.a, created_by=tenants.alice)
    )
    socket, _ = await open_board(tenants.alice, project.pk)

    # when / then
    await socket.send_json_to({"type": "chat", "op_id": "q1", "chat_id": str(chat.pk), "text": "   "})
    error = await receive_type(socket, "error")
    assert (error["op_id"], error["code"], list(error["fields"])) == ("q1", "validation_error", ["text"])
    await socket.send_json_to({"type": "chat", "op_id": "q2", "chat_id": str(other.pk), "text": "Hi"})
    error = await receive_type(socket, "error")
    assert (error["op_id"], error["code"]) == ("q2", "not_found")
    stored, holds, _ = await _state(tenants, chat)
    assert stored.chat_history == [] and holds == []
    await socket.disconnect()
