"""AI chat nodes on the board: an answer reads the nodes connected to the chat.

Connecting a content piece (its title, description, transcript, metadata and
latest completed analysis) or a folder (the pieces in it, in order) to a chat
node, in either direction, puts it in the next answer's context. Chat nodes to
chat nodes are not read.

The layer rule keeps `canvas` from importing `chats` (siblings), so a chat node
uses what the chats engine is built on: the AI gateway's streaming
(`aiplatform.ai.gateway.astream`) with a billing reservation, the same order as
a chat answer (ADR 0004):

1. `chat_node_ask` (sync, one transaction): editor check, the account's
   shut-off and monthly generations, the context, the estimated price held
   (`reservation_hold`), the question appended to `chat_history`. Any refusal
   changes nothing.
2. `chat_node_stream` (async): streams the answer to the project's channel group
   (`chat_started`, `chat_token`…, `chat_done`), so every open board sees it. The
   gateway settles the hold with the price of what was generated (at zero on an
   error); a hold the gateway never reached is released here.
3. `chat_node_answer_save`: the answer (or the failure) appended to the history,
   with its credits.

The history is appended to under a row lock and does not bump the node's
version: it is not a board edit, so a collaborator's move of the node is not
made stale by an answer arriving.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context
from aiplatform.ai import gateway
from aiplatform.ai.calls import chat_message
from aiplatform.ai.guard import call_guard
from aiplatform.ai.pricing import credits_for, estimate_prompt_tokens
from aiplatform.ai.registry import default_model, model_entry
from aiplatform.errors import Conflict, InvalidInput, NotFound, ServiceError
from billing.models import CreditTransaction, Reservation
from billing.services.ledger import Reference
from billing.services.limits import generation_check
from billing.services.reservations import reservation_hold, reservation_release
from canvas.access import project_require
from canvas.models import (
    CanvasConnection,
    CanvasFolder,
    CanvasFolderItem,
    ChatInterface,
    ContentAnalysis,
    ContentPiece,
    Project,
    ProjectPermission,
)
from canvas.models.common import WorkStatus

from .board import NodeRef, actor_payload, board_group

log = logging.getLogger("canvas.chat_nodes")

REFERENCE_TYPE = "canvas_chat"
FEATURE = "canvas_chat"
QUESTION_MAX = 4000
HISTORY_SENT = 20  # earlier messages sent with a question
HISTORY_KEPT = 200  # messages kept on the node
SYSTEM_PROMPT = (
    "You are the AI chat of a content studio board. Answer the user's question using the connected "
    "content below (social posts, videos and their transcripts, metadata and analyses). Say which piece "
    "you draw on. When nothing relevant is connected, say so and suggest connecting content to this chat."
)

Emit = Callable[[dict], Awaitable[None]]


def _context_chars() -> int:
    return int(getattr(settings, "CANVAS_CHAT_CONTEXT_CHARS", 24000))


def _answer_tokens() -> int:
    return int(getattr(settings, "CANVAS_CHAT_MAX_TOKENS", 800))


@dataclass(frozen=True)
class ChatContext:
    """What an answer reads: the text given to the model and the nodes it came from."""

    text: str
    read: list[NodeRef] = field(default_factory=list)


@dataclass(frozen=True)
class ChatAsk:
    """A question accepted: everything the stream needs, with the credits held."""

    account: Account
    user: Any
    project_id: str
    chat_id: str
    answer_id: str
    model: str
    messages: list[dict]
    max_tokens: int
    reservation_id: Any
    question: dict
    read: list[NodeRef]


# --- context ---------------------------------------------------------------------------


def _piece_text(piece: ContentPiece, analysis: ContentAnalysis | None, transcript_chars: int) -> str:
    lines = [f"### {piece.title or piece.source_url} ({piece.platform} {piece.content_type})"]
    if piece.source_url:
        lines.append(f"URL: {piece.source_url}")
    if piece.description:
        lines.append(f"Description: {piece.description[:2000]}")
    if piece.duration_seconds:
        lines.append(f"Duration: {piece.duration_seconds} s")
    if piece.metadata:
        lines.append(f"Metadata: {str(piece.metadata)[:1000]}")
    if piece.transcript:
        transcript = piece.transcript
        if len(transcript) > transcript_chars:
            transcript = transcript[:transcript_chars] + " […]"
        lines.append(f"Transcript: {transcript}")
    if analysis is not None:
        for label, value in (
            ("Hook", analysis.hook_analysis), ("Body", analysis.body_analysis), ("CTA", analysis.cta_analysis),
            ("Style", analysis.content_style_analysis),
        ):  # fmt: skip
            if value:
                lines.append(f"{label} analysis: {value[:1500]}")
        if analysis.hashtags:
            lines.append("Hashtags: " + " ".join(analysis.hashtags[:30]))
        if analysis.engagement_score is not None:
            lines.append(f"Engagement score: {analysis.engagement_score}")
        if analysis.sentiment_score is not None:
            lines.append(f"Sentiment score: {analysis.sentiment_score}")
    return "\n".join(lines)


def chat_node_context(*, project: Project, chat: ChatInterface) -> ChatContext:
    """The connected pieces and folders (either direction, live connections and
    nodes), read into one text within `CANVAS_CHAT_CONTEXT_CHARS`. Four queries."""
    account = project.account_id
    links = CanvasConnection.objects.filter(account=account, project=project, deleted_at__isnull=True).filter(
        Q(source_chat_interface=chat) | Q(target_chat_interface=chat)
    )
    piece_ids: list = []
    folder_ids: list = []
    for link in links:
        kind, pk = link._end("target") if link.source_chat_interface_id == chat.pk else link._end("source")
        if kind == "content_piece":
            piece_ids.append(pk)
        elif kind == "folder":
            folder_ids.append(pk)
    folders = {
        f.pk: f
        for f in CanvasFolder.objects.filter(
            account=account, project=project, pk__in=folder_ids, deleted_at__isnull=True
        )
    }
    in_folders: dict[Any, list] = {pk: [] for pk in folders}
    items = CanvasFolderItem.objects.filter(account=account, folder_id__in=list(folders)).order_by(
        "folder", "sort_order", "added_at", "id"
    )
    for item in items:
        in_folders[item.folder_id].append(item.content_piece_id)
    wanted = set(piece_ids) | {pk for pks in in_folders.values() for pk in pks}
    pieces = {
        p.pk: p
        for p in ContentPiece.objects.filter(account=account, project=project, pk__in=wanted, deleted_at__isnull=True)
    }
    analyses: dict[Any, ContentAnalysis] = {}
    for analysis in ContentAnalysis.objects.filter(
        account=account, content_piece_id__in=list(pieces), analysis_status=WorkStatus.COMPLETED
    ).order_by("content_piece", "-analyzed_at", "-created_at"):
        analyses.setdefault(analysis.content_piece_id, analysis)

    count = max(1, len(pieces))
    transcript_chars = max(500, _context_chars() // count - 800)
    blocks: list[str] = []
    read: list[NodeRef] = []
    for pk in piece_ids:
        if pk in pieces:
            blocks.append(_piece_text(pieces[pk], analyses.get(pk), transcript_chars))
            read.append(NodeRef(kind="content_piece", id=str(pk)))
    for pk, folder in folders.items():
        inside = [_piece_text(pieces[p], analyses.get(p), transcript_chars) for p in in_folders[pk] if p in pieces]
        body = "\n\n".join(inside) if inside else "(empty)"
        blocks.append(f"## Folder “{folder.name}” ({len(inside)} pieces)\n\n{body}")
        read.append(NodeRef(kind="folder", id=str(pk)))
    text = "\n\n".join(blocks)
    limit = _context_chars()
    if len(text) > limit:
        text = text[:limit] + "\n[…the rest of the connected content was cut to fit]"
    return ChatContext(text=text, read=read)


# --- asking ----------------------------------------------------------------------------


def _message(role: str, content: str, **extra: Any) -> dict:
    return {"role": role, "content": content, "at": timezone.now().isoformat(), **extra}


def chat_node_ask(*, project: Project, actor: Membership, chat_id: Any, question: Any) -> ChatAsk:
    """Accept a question to a chat node: checks, context, credits held, question stored.

    Refusals (nothing changes): Forbidden (viewers, shut-off), NotFound (no such
    chat on this board), Conflict (archived project, deleted chat,
    `plan_limit_reached`), InvalidInput (empty or long question, unknown model),
    InsufficientCredits (402: the estimated price cannot be held)."""
    project_require(actor, project, ProjectPermission.EDITOR)
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput(gettext("Type a question."), fields={"text": ["Type a question."]})
    question = question.strip()
    if len(question) > QUESTION_MAX:
        raise InvalidInput(
            gettext("At most %(QUESTION_MAX)s characters.") % {"QUESTION_MAX": QUESTION_MAX},
            fields={"text": [f"At most {QUESTION_MAX} characters."]},
        )
    try:
        chat_pk = uuid.UUID(str(chat_id))
    except ValueError:
        raise NotFound(gettext("There is no such chat on this board.")) from None
    account = project.account
    with transaction.atomic():
        if (
            Project.objects.filter(account=project.account_id, pk=project.pk)
            .values_list("is_archived", flat=True)
            .first()
        ):
            raise Conflict(gettext("This project is archived: restore it to ask its chats."), code="archived")
        chat = (
            ChatInterface.objects.select_for_update()
            .filter(account=project.account_id, project=project, pk=chat_pk)
            .first()
        )
        if chat is None:
            raise NotFound(gettext("There is no such chat on this board."))
        if chat.deleted_at is not None:
            raise Conflict(gettext("This chat was deleted."), code="deleted")
        entry = model_entry(chat.ai_model_preference or default_model())
        call_guard(account=account)
        generation_check(account=account)
        context = chat_node_context(project=project, chat=chat)
        system = SYSTEM_PROMPT + "\n\n# Connected content\n\n" + (context.text or "(nothing is connected yet)")
        earlier = [
            {"role": m["role"], "content": m["content"]}
            for m in (chat.chat_history or [])
            if m.get("role") in ("user", "assistant") and m.get("content") and m.get("status", "ok") == "ok"
        ][-HISTORY_SENT:]
        messages = [{"role": "system", "content": system}, *earlier, {"role": "user", "content": question}]
        max_tokens = min(_answer_tokens(), entry.max_output_tokens)
        answer_id = str(uuid.uuid4())
        estimate = credits_for(entry, estimate_prompt_tokens([chat_message(m) for m in messages]), max_tokens)
        reservation_id = None
        if estimate > 0:
            reservation_id = reservation_hold(
                account=account, amount=estimate, type=CreditTransaction.Type.USE, actor=actor.user,
                reference=Reference(REFERENCE_TYPE, answer_id),
                ttl=timedelta(seconds=int(getattr(settings, "CHAT_GENERATION_TIMEOUT_SECONDS", 300)) + 3600),
            ).id  # fmt: skip
        by = actor_payload(actor)
        asked = _message("user", question, by=by["name"], user_id=by["user_id"], answer_id=answer_id)
        chat.chat_history = [*(chat.chat_history or []), asked][-HISTORY_KEPT:]
        chat.connected_content = {"read": context.read, "at": asked["at"]}
        chat.save(update_fields=["chat_history", "connected_content", "updated_at"])
    return ChatAsk(
        account=account, user=actor.user, project_id=str(project.pk), chat_id=str(chat.pk), answer_id=answer_id,
        model=entry.name, messages=messages, max_tokens=max_tokens, reservation_id=reservation_id,
        question=asked, read=context.read,
    )  # fmt: skip


def chat_node_answer_save(*, ask: ChatAsk, text: str, status: str, credits: Decimal, error: str = "") -> dict:
    """Append the answer to the node's history (under a row lock); release a hold the
    gateway never reached. Returns the stored message."""
    with account_context(ask.account.id):
        if ask.reservation_id is not None:
            held = Reservation.objects.filter(
                account=ask.account, pk=ask.reservation_id, status=Reservation.Status.HELD
            ).exists()
            if held:
                reservation_release(account=ask.account, reservation_id=ask.reservation_id)
        answer = _message("assistant", text, answer_id=ask.answer_id, model=ask.model, status=status,
                          credits=f"{credits:.4f}", **({"error": error} if error else {}))  # fmt: skip
        chat = ChatInterface.objects.select_for_update().filter(account=ask.account, pk=ask.chat_id).first()
        if chat is not None:
            chat.chat_history = [*(chat.chat_history or []), answer][-HISTORY_KEPT:]
            chat.save(update_fields=["chat_history", "updated_at"])
    return answer


async def chat_node_stream(ask: ChatAsk, emit: Emit | None = None) -> dict:
    """Stream the answer to the project's boards (or `emit`), then store it. Returns the
    stored answer. Never raises for a provider failure: the board is told."""
    send = emit or _group_emitter(ask)
    await send({"type": "chat_started", "chat_id": ask.chat_id, "answer_id": ask.answer_id, "question": ask.question,
                "read": ask.read})  # fmt: skip
    parts: list[str] = []
    status, error, credits = "ok", "", Decimal("0")
    stream = gateway.astream(
        account=ask.account, model=ask.model, messages=ask.messages, feature=FEATURE, user=ask.user,
        max_tokens=ask.max_tokens, reservation=ask.reservation_id, generation=True,
        reference=Reference(REFERENCE_TYPE, ask.answer_id),
    )  # fmt: skip
    try:
        async for piece in stream:
            parts.append(piece)
            await send({"type": "chat_token", "chat_id": ask.chat_id, "answer_id": ask.answer_id, "text": piece})
        completion = stream.completion
        credits = completion.credits if completion is not None else Decimal("0")
    except ServiceError as exc:
        status, error = "failed", exc.message
    except Exception as exc:  # a provider fault must reach the board, not kill the task silently
        log.exception("chat node answer %s failed", ask.answer_id)
        status, error = "failed", f"The model failed: {type(exc).__name__}."
    text = "".join(parts)
    answer = await database_sync_to_async(chat_node_answer_save)(
        ask=ask, text=text, status=status, credits=credits, error=error
    )
    frame = {"type": "chat_done", "chat_id": ask.chat_id, "answer_id": ask.answer_id, "status": status,
             "answer": answer}  # fmt: skip
    if error:
        frame["message"] = f"{error} Nothing was charged for the failed part; ask again."
    await send(frame)
    return answer


def _group_emitter(ask: ChatAsk) -> Emit:
    layer = get_channel_layer()
    group = board_group(ask.account.id, ask.project_id)

    async def emit(frame: dict) -> None:
        if layer is not None:
            await layer.group_send(group, {"type": "chat.frame", "frame": frame})

    return emit
