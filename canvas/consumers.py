"""`ws/canvas/<project_id>/`: one project's board, live and shared.

The user comes from the session cookie and the account from the server-side
session (never from the client); the project must be visible to that member,
else the socket is closed with 4404 (4401 without a signed-in user). On
connect the socket gets a `snapshot`, and every other socket on the board a
`join`; they answer with `here` so the newcomer knows who is present.

Client frames:
* `{"type": "op", "op": …, "op_id"?, …}`: a board operation (canvas.services.board);
  the membership and the project permission are checked again for each one. Moves
  and resizes take the one-statement path of canvas.board_fast; what it cannot
  apply, and every other operation, the general path (`_apply`, on a DB lane).
  Operations, chat questions and syncs of one socket run in its own task, in the
  order they came, so the socket goes on relaying the others' frames meanwhile.
  Accepted: every socket of the project (the sender included) gets `applied`
  with the node's new version. Refused: the sender alone gets `error`, with
  the current row when the op lost to a newer version.
* `{"type": "cursor", "x", "y"}`: presence only, relayed to the others, never stored.
* `{"type": "sync"}`: a fresh `snapshot` (after a gap).
* `{"type": "chat", "chat_id", "text", "op_id"?}`: ask a chat node
  (canvas.services.chat_nodes). Accepted: every socket of the project gets
  `chat_started`, `chat_token`… and `chat_done`; the answer runs in a task of
  this process that outlives the socket (it is stored and charged). Refused:
  the sender gets `error` with the op_id.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypedDict, TypeVar

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext

from accounts.models import Membership
from accounts.selectors import membership_for_user
from accounts.tenancy.context import account_context, user_context
from accounts.tenancy.middleware import SESSION_KEY
from aiplatform.errors import InvalidInput, NotFound, ServiceError

from .access import effective_permission
from .board_fast import fast_apply, fast_attach, fast_detach, fast_parse
from .models import Project, ProjectCollaborator
from .selectors import project_get_for_member
from .services.board import (
    COORDINATE_MAX,
    BoardSnapshot,
    JobFrame,
    NodeRow,
    actor_payload,
    board_apply,
    board_group,
    board_snapshot,
)
from .services.chat_nodes import ChatAsk, chat_node_ask, chat_node_stream

log = logging.getLogger("canvas.board")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NO_ACCESS = 4404  # missing, another account's, or a project the member is not on: all alike


class Presence(TypedDict):
    user_id: str
    name: str
    client_id: str  # one per socket: the same user may have two tabs open


class SnapshotFrame(TypedDict):
    type: str  # "snapshot"
    project_id: str
    permission: str
    you: Presence
    canvas_data: dict
    nodes: list[NodeRow]
    connections: list[NodeRow]
    folder_items: dict[str, int]
    jobs: list[JobFrame]


class ErrorFrame(TypedDict, total=False):
    type: str  # "error"
    op_id: str | None
    code: str
    message: str
    fields: dict
    current: NodeRow


class PresenceFrame(TypedDict):
    type: str  # "join", "here", "leave"
    user: Presence


class CursorFrame(TypedDict):
    type: str  # "cursor"
    user: Presence
    x: float
    y: float


def _membership(user, account_id):
    with user_context(user.pk):
        membership = membership_for_user(user, account_id)
    if membership is None or (account_id and str(membership.account_id) != str(account_id)):
        return None
    membership.user = user
    return membership


T = TypeVar("T")
_turn = itertools.count()


# Channels' database_sync_to_async runs every call of the process on one thread, so
# twenty collaborators' moves would queue behind each other (the `canvas` benchmark
# measured seconds). Each socket gets one of CANVAS_DB_THREADS lanes instead: a single
# thread, so one socket's operations stay in order, beside the other sockets' lanes.
@lru_cache(maxsize=1)
def _lanes() -> tuple[ThreadPoolExecutor, ...]:
    count = max(1, int(getattr(settings, "CANVAS_DB_THREADS", 4)))
    return tuple(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"canvas-lane-{i}") for i in range(count))


def _next_lane() -> ThreadPoolExecutor:
    lanes = _lanes()
    return lanes[next(_turn) % len(lanes)]


def _closing(fn: Callable[..., T], *args: Any) -> T:
    close_old_connections()
    try:
        return fn(*args)
    finally:
        close_old_connections()


async def _db(lane: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
    """Run a self-contained sync call (its own transaction) on `lane`."""
    return await sync_to_async(_closing, thread_sensitive=False, executor=lane)(fn, *args)


def _open(user, session_account, project_id):
    """(membership, snapshot) when the member may see the project, else None."""
    membership = _membership(user, session_account)
    if membership is None:
        return None
    with account_context(membership.account_id):
        try:
            project = project_get_for_member(membership.account, membership, project_id)
            return membership, board_snapshot(project=project, actor=membership)
        except ServiceError:
            return None


def _snapshot(user, account_id, project_id) -> BoardSnapshot:
    membership = _membership(user, account_id)
    if membership is None:
        raise NotFound(gettext("There is no such project."))
    with account_context(account_id):
        project = project_get_for_member(membership.account, membership, project_id)
        return board_snapshot(project=project, actor=membership)


def _access(user, account_id, project_id) -> tuple[Membership, Project]:
    """The member and the project as they are now, in one query (the caller holds the
    tenant context): the account role, the collaborator level, the archived flag. A
    member who may not see the project gets NotFound, like a missing project."""
    mine = ProjectCollaborator.objects.filter(account=account_id, project=OuterRef("pk"), user=user.pk)
    member = Membership.objects.filter(account=account_id, user=user.pk)
    row = (
        Project.objects.filter(account=account_id, pk=project_id)
        .annotate(
            my_level=Subquery(mine.values("permission_level")[:1]),
            my_role=Subquery(member.values("role")[:1]),
            my_membership=Subquery(member.values("pk")[:1]),
        )
        .values("pk", "is_archived", "my_level", "my_role", "my_membership")
        .first()
    )
    if row is None or row["my_role"] is None or effective_permission(row["my_role"], row["my_level"]) is None:
        raise NotFound(gettext("There is no such project."))
    membership = Membership(pk=row["my_membership"], account_id=account_id, user=user, role=row["my_role"])
    project = Project(pk=row["pk"], account_id=account_id, is_archived=row["is_archived"])
    project.my_level = row["my_level"]
    return membership, project


def _apply(user, account_id, project_id, op: dict) -> dict:
    """Access as it is now, then the operation, in one transaction; the committed
    result as its `applied` frame (the caller publishes it)."""
    with account_context(account_id):
        membership, project = _access(user, account_id, project_id)
        result = board_apply(project=project, actor=membership, op=op, publish=False, savepoint=False)
    return dict(result.frame(membership))


def _ask(user, account_id, project_id, chat_id: Any, text: Any) -> ChatAsk:
    membership = _membership(user, account_id)
    if membership is None:
        raise NotFound(gettext("There is no such project."))
    with account_context(account_id):
        project = project_get_for_member(membership.account, membership, project_id)
        return chat_node_ask(project=project, actor=membership, chat_id=chat_id, question=text)


# Answers being streamed by this process: a reference keeps each task alive.
_ANSWERS: set[asyncio.Task] = set()


def error_frame(exc: ServiceError, op_id: Any = None) -> ErrorFrame:
    frame = ErrorFrame(type="error", op_id=op_id if isinstance(op_id, str) else None, code=exc.code,
                       message=exc.message)  # fmt: skip
    if exc.fields:
        frame["fields"] = exc.fields
    if "current" in exc.extra:
        frame["current"] = exc.extra["current"]
    return frame


def _coordinate(content: dict, name: str) -> float:
    value = content.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(
            gettext("%(name)s must be a number.") % {"name": name}, fields={name: [f"{name} must be a number."]}
        )
    if abs(value) > COORDINATE_MAX:
        raise InvalidInput(
            gettext("%(name)s is out of range.") % {"name": name}, fields={name: [f"{name} is out of range."]}
        )
    return float(value)


_QUEUED = ("op", "chat", "sync")


class CanvasConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: deque[Any] = deque()  # database frames of this socket, in arrival order
        self._worker: asyncio.Task | None = None
        self._closed = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session = self.scope.get("session")
        self.project_id = str(self.scope["url_route"]["kwargs"]["project_id"])
        self.lane = _next_lane()
        opened = await _db(self.lane, _open, user, session.get(SESSION_KEY) if session else None, self.project_id)
        if opened is None:
            await self.close(code=CLOSE_NO_ACCESS)
            return
        membership, snapshot = opened
        self.user = user
        self.account_id = str(membership.account_id)
        self.me = Presence(**actor_payload(membership), client_id=uuid.uuid4().hex[:12])
        self.group = board_group(self.account_id, self.project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        fast_attach()
        await self.accept()
        # The join goes out before the snapshot, so a socket opened after this one has
        # its snapshot is rarely told of it twice (the pub/sub layer delivers group
        # messages when they come back from Redis, not when sent: presence frames may
        # repeat, and clients key them by client_id).
        await self.channel_layer.group_send(
            self.group, {"type": "presence.join", "user": self.me, "sender": self.channel_name}
        )
        await self.send_json(self._snapshot_frame(snapshot))

    async def disconnect(self, code: int) -> None:
        self._closed = True  # frames still queued are dropped; one being applied finishes
        self._pending.clear()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_send(
                self.group, {"type": "presence.leave", "user": self.me, "sender": self.channel_name}
            )
            await fast_detach()

    def _snapshot_frame(self, snapshot: BoardSnapshot) -> SnapshotFrame:
        return SnapshotFrame(
            type="snapshot", project_id=snapshot.project_id, permission=snapshot.permission, you=self.me,
            canvas_data=snapshot.canvas_data, nodes=snapshot.nodes, connections=snapshot.connections,
            folder_items=snapshot.folder_items, jobs=snapshot.jobs,
        )  # fmt: skip

    # --- client frames ---------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = await self.decode_json(text_data) if text_data is not None else None
        except ValueError:
            await self.send_json(error_frame(InvalidInput(gettext("Frames are JSON text."), code="bad_frame")))
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind in _QUEUED:
            # Frames that touch the database run in this socket's own task, in order, so the
            # consumer keeps relaying the others' frames meanwhile (Channels dispatches one
            # message at a time: awaiting an operation here held up every move sent to this
            # socket for as long as its own took).
            self._pending.append(content)
            if self._worker is None or self._worker.done():
                self._worker = asyncio.get_running_loop().create_task(self._drain())
            return
        await self._handle(content)

    async def _drain(self) -> None:
        while self._pending and not self._closed:
            content = self._pending.popleft()
            try:
                await self._handle(content)
            except Exception:
                log.exception("board socket: a frame failed; the socket closes")
                self._pending.clear()
                await self.close(code=1011)

    async def _handle(self, content: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        op_id = content.get("op_id") if kind in ("op", "chat") else None
        try:
            if kind == "op":
                op = {k: v for k, v in content.items() if k != "type"}
                fast = fast_parse(op)  # a move or resize: one statement on this event loop
                frame = None
                if fast is not None:
                    by = {"user_id": self.me["user_id"], "name": self.me["name"]}
                    frame = await fast_apply(fast, user_id=self.user.pk, account_id=self.account_id,
                                             project_id=self.project_id, by=by)  # fmt: skip
                if frame is None:  # anything else, or a move the fast path did not apply: the general path
                    frame = await _db(self.lane, _apply, self.user, self.account_id, self.project_id, op)
                # Our acknowledgement is this frame coming back through the group, serialised once
                # here rather than by each receiving socket.
                await self.channel_layer.group_send(self.group, {"type": "board.applied", "text": json.dumps(frame)})
            elif kind == "cursor":
                x, y = _coordinate(content, "x"), _coordinate(content, "y")
                await self.channel_layer.group_send(
                    self.group,
                    {"type": "presence.cursor", "user": self.me, "x": x, "y": y, "sender": self.channel_name},
                )
            elif kind == "chat":
                ask = await _db(
                    self.lane,
                    _ask,
                    self.user,
                    self.account_id,
                    self.project_id,
                    content.get("chat_id"),
                    content.get("text"),
                )
                task = asyncio.get_running_loop().create_task(chat_node_stream(ask))
                _ANSWERS.add(task)
                task.add_done_callback(_ANSWERS.discard)
            elif kind == "sync":
                await self.send_json(
                    self._snapshot_frame(await _db(self.lane, _snapshot, self.user, self.account_id, self.project_id))
                )
            else:
                raise InvalidInput(gettext("Unknown frame type."), code="unknown_frame")
        except ServiceError as exc:
            if not self._closed:
                await self.send_json(error_frame(exc, op_id))

    # --- layer messages ----------------------------------------------------------------

    async def board_applied(self, event: dict) -> None:
        if "text" in event:  # already JSON (the socket that applied it encoded it once)
            await self.send(text_data=event["text"])
        else:
            await self.send_json(event["frame"])

    async def board_job(self, event: dict) -> None:
        await self.send_json(event["frame"])

    async def chat_frame(self, event: dict) -> None:
        await self.send_json(event["frame"])

    async def presence_join(self, event: dict) -> None:
        if event["sender"] == self.channel_name:
            return
        await self.send_json(PresenceFrame(type="join", user=event["user"]))
        await self.channel_layer.send(event["sender"], {"type": "presence.here", "user": self.me})

    async def presence_here(self, event: dict) -> None:
        await self.send_json(PresenceFrame(type="here", user=event["user"]))

    async def presence_leave(self, event: dict) -> None:
        if event["sender"] != self.channel_name:
            await self.send_json(PresenceFrame(type="leave", user=event["user"]))

    async def presence_cursor(self, event: dict) -> None:
        if event["sender"] != self.channel_name:
            await self.send_json(CursorFrame(type="cursor", user=event["user"], x=event["x"], y=event["y"]))
