"""`ws/canvas/<project_id>/`: one project's board, live and shared.

The user comes from the session cookie and the account from the server-side
session (never from the client); the project must be visible to that member,
else the socket is closed with 4404 (4401 without a signed-in user). On
connect the socket gets a `snapshot`, and every other socket on the board a
`join`; they answer with `here` so the newcomer knows who is present.

Client frames:
* `{"type": "op", "op": …, "op_id"?, …}`: a board operation (canvas.services.board);
  the membership and the project permission are checked again for each one.
  Accepted: every socket of the project (the sender included) gets `applied`
  with the node's new version. Refused: the sender alone gets `error`, with
  the current row when the op lost to a newer version.
* `{"type": "cursor", "x", "y"}`: presence only, relayed to the others, never stored.
* `{"type": "sync"}`: a fresh `snapshot` (after a gap).
"""

from __future__ import annotations

import math
import uuid
from typing import Any, TypedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.selectors import membership_for_user
from accounts.tenancy.context import account_context, user_context
from accounts.tenancy.middleware import SESSION_KEY
from aiplatform.errors import InvalidInput, NotFound, ServiceError

from .selectors import project_get_for_member
from .services.board import (
    COORDINATE_MAX,
    BoardResult,
    BoardSnapshot,
    NodeRow,
    actor_payload,
    board_apply,
    board_group,
    board_snapshot,
)

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


@database_sync_to_async
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


@database_sync_to_async
def _snapshot(user, account_id, project_id) -> BoardSnapshot:
    membership = _membership(user, account_id)
    if membership is None:
        raise NotFound("There is no such project.")
    with account_context(account_id):
        project = project_get_for_member(membership.account, membership, project_id)
        return board_snapshot(project=project, actor=membership)


@database_sync_to_async
def _apply(user, account_id, project_id, op: dict) -> BoardResult:
    """Membership and project access as they are now, then the operation (it publishes on commit)."""
    membership = _membership(user, account_id)
    if membership is None:
        raise NotFound("There is no such project.")
    with account_context(account_id):
        project = project_get_for_member(membership.account, membership, project_id)
        return board_apply(project=project, actor=membership, op=op)


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
        raise InvalidInput(f"{name} must be a number.", fields={name: [f"{name} must be a number."]})
    if abs(value) > COORDINATE_MAX:
        raise InvalidInput(f"{name} is out of range.", fields={name: [f"{name} is out of range."]})
    return float(value)


class CanvasConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session = self.scope.get("session")
        self.project_id = str(self.scope["url_route"]["kwargs"]["project_id"])
        opened = await _open(user, session.get(SESSION_KEY) if session else None, self.project_id)
        if opened is None:
            await self.close(code=CLOSE_NO_ACCESS)
            return
        membership, snapshot = opened
        self.user = user
        self.account_id = str(membership.account_id)
        self.me = Presence(**actor_payload(membership), client_id=uuid.uuid4().hex[:12])
        self.group = board_group(self.account_id, self.project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
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
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_send(
                self.group, {"type": "presence.leave", "user": self.me, "sender": self.channel_name}
            )

    def _snapshot_frame(self, snapshot: BoardSnapshot) -> SnapshotFrame:
        return SnapshotFrame(
            type="snapshot", project_id=snapshot.project_id, permission=snapshot.permission, you=self.me,
            canvas_data=snapshot.canvas_data, nodes=snapshot.nodes, connections=snapshot.connections,
        )  # fmt: skip

    # --- client frames ---------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = await self.decode_json(text_data) if text_data is not None else None
        except ValueError:
            await self.send_json(error_frame(InvalidInput("Frames are JSON text.", code="bad_frame")))
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        op_id = content.get("op_id") if kind == "op" else None
        try:
            if kind == "op":
                op = {k: v for k, v in content.items() if k != "type"}
                await _apply(self.user, self.account_id, self.project_id, op)  # `applied` comes through the group
            elif kind == "cursor":
                x, y = _coordinate(content, "x"), _coordinate(content, "y")
                await self.channel_layer.group_send(
                    self.group,
                    {"type": "presence.cursor", "user": self.me, "x": x, "y": y, "sender": self.channel_name},
                )
            elif kind == "sync":
                await self.send_json(self._snapshot_frame(await _snapshot(self.user, self.account_id, self.project_id)))
            else:
                raise InvalidInput("Unknown frame type.", code="unknown_frame")
        except ServiceError as exc:
            await self.send_json(error_frame(exc, op_id))

    # --- layer messages ----------------------------------------------------------------

    async def board_applied(self, event: dict) -> None:
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
