"""The live board: operations on a project's nodes, last write wins by version.

An operation names a node (`kind`, `id`) and the `version` it was made against.
It is applied in one conditional statement,
`UPDATE … SET …, version = version + 1 WHERE id = %s AND version = %s AND deleted_at IS NULL`,
so of two writers that read the same version only one can win; the other is
told `stale_version` (409) with the current row, and nothing changes. A late
operation on a deleted node is told `deleted` with the tombstone (ADR 0009).

Operations (`op`):

* `create` (kind `folder` or `chat_interface`): `x`, `y`, `w`?, `h`?, `title`?,
  and for folders `color`?, `collapsed`?;
* `move`: `x`, `y` (folders, chat nodes, content pieces);
* `resize`: `w`, `h` (folders, chat nodes);
* `update`: `title`, `color`, `collapsed` (folders), `title` (chat nodes,
  pieces), `style` `{color, width}` (connections);
* `delete`: a tombstone; deleting a node also tombstones its live connections,
  at the same instant, so `restore` brings them back with it;
* `restore`: undo of `delete` (needs the tombstone's version);
* `connect`: `source` and `target` `{kind, id}` of any node kind, `style`?.

Every accepted operation is published, after commit, to the project's channel
group as an `applied` frame (see `AppliedFrame`); the websocket consumer relays it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypedDict
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import F, Max, Model, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InvalidInput, NotFound
from canvas.access import project_require
from canvas.models import (
    CanvasConnection,
    CanvasFolder,
    CanvasFolderItem,
    ChatInterface,
    ContentPiece,
    ProcessingJob,
    Project,
    ProjectPermission,
)
from canvas.models.board import END_FIELDS, NodeKind

COORDINATE_MAX = Decimal("99999999.99")  # DECIMAL(10,2)
SIZE_MIN, SIZE_MAX = Decimal("1"), Decimal("100000")
CONNECTION_WIDTH_RANGE = (0.5, 20.0)
OP_ID_MAX = 64
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
CONNECTION = "connection"

OPS = ("create", "move", "resize", "update", "delete", "restore", "connect")
MODELS: dict[str, type[Model]] = {
    NodeKind.FOLDER.value: CanvasFolder,
    NodeKind.CHAT_INTERFACE.value: ChatInterface,
    NodeKind.CONTENT_PIECE.value: ContentPiece,
    CONNECTION: CanvasConnection,
}
TITLE_FIELD = {"folder": "name", "chat_interface": "name", "content_piece": "title"}
TITLE_MAX = {"folder": 255, "chat_interface": 255, "content_piece": 500}
RESIZABLE = ("folder", "chat_interface")
CREATABLE = ("folder", "chat_interface")
UPDATABLE = {
    "folder": {"title", "color", "collapsed"},
    "chat_interface": {"title"},
    "content_piece": {"title", "folder"},
    CONNECTION: {"style"},
}


# --- payloads -------------------------------------------------------------------------


class NodeRef(TypedDict):
    kind: str
    id: str


class NodeRow(TypedDict, total=False):
    """A node as the board draws it. Every kind has kind, id, version, deleted;
    boxes have x, y (and w, h for folders and chat nodes), title; folders color,
    collapsed; pieces content_type, platform, thumbnail_url, source_url,
    processing_status, and `folder` (the id of the live folder the piece is filed in, or
    None) where the frame knows it: the snapshot and a filing; other frames leave the
    key out and the board keeps what it had; connections source, target, style."""

    kind: str
    id: str
    version: int
    deleted: bool
    x: float
    y: float
    w: float
    h: float
    title: str
    color: str
    collapsed: bool
    content_type: str
    platform: str
    thumbnail_url: str
    source_url: str
    processing_status: str
    folder: str | None
    history: list[dict]
    source: NodeRef
    target: NodeRef
    style: dict


class Actor(TypedDict):
    user_id: str
    name: str


class AppliedFrame(TypedDict):
    type: str  # "applied"
    op: str
    op_id: str | None
    by: Actor
    node: NodeRow
    related: list[NodeRow]  # connections deleted or restored with the node


class JobFrame(TypedDict):
    """A job of a piece on the board (analysis, script): its status and progress."""

    id: str
    job_type: str
    status: str
    progress: int
    piece: str
    error: str


def job_frame(job: Any) -> JobFrame | None:
    piece = (job.job_data or {}).get("content_piece_id")
    if not piece:
        return None
    return JobFrame(id=str(job.pk), job_type=job.job_type, status=job.status, progress=job.progress,
                    piece=str(piece), error=(job.error_message or "")[:300])  # fmt: skip


@dataclass(frozen=True)
class BoardResult:
    """What an accepted operation did: the node after it (with its new version)
    and the connections that changed with it."""

    op: str
    op_id: str | None
    node: NodeRow
    related: list[NodeRow] = field(default_factory=list)

    def frame(self, actor: Membership) -> AppliedFrame:
        return AppliedFrame(
            type="applied", op=self.op, op_id=self.op_id, by=actor_payload(actor), node=self.node,
            related=self.related,
        )  # fmt: skip


@dataclass(frozen=True)
class BoardSnapshot:
    project_id: str
    permission: str
    canvas_data: dict
    nodes: list[NodeRow]  # chat nodes also carry their `history` (last CHAT_HISTORY_SHOWN messages)
    connections: list[NodeRow]
    folder_items: dict[str, int] = field(default_factory=dict)  # live pieces per folder id
    jobs: list[JobFrame] = field(default_factory=list)  # each piece's latest job of each type


def board_group(account_id: Any, project_id: Any) -> str:
    """The project's channel group (the account is in the name: groups are global)."""
    return f"canvas-{account_id}-{project_id}"


def actor_payload(actor: Membership) -> Actor:
    user = actor.user
    return Actor(user_id=str(user.pk), name=(user.full_name or user.email.split("@")[0]))


# --- rows -----------------------------------------------------------------------------


def _num(value: Decimal) -> float:
    return float(value)


def _ref(row: CanvasConnection, prefix: str) -> NodeRef:
    kind, pk = row._end(prefix)
    return NodeRef(kind=kind, id=str(pk))


def node_row(kind: str, row: Any) -> NodeRow:
    base = NodeRow(kind=kind, id=str(row.pk), version=row.version, deleted=row.deleted_at is not None)
    if kind == CONNECTION:
        base.update(source=_ref(row, "source"), target=_ref(row, "target"), style=row.connection_style)
        return base
    base.update(x=_num(row.position_x), y=_num(row.position_y), title=getattr(row, TITLE_FIELD[kind]))
    if kind in RESIZABLE:
        base.update(w=_num(row.width), h=_num(row.height))
    if kind == "folder":
        base.update(color=row.color, collapsed=row.is_collapsed)
    if kind == "content_piece":
        base.update(
            content_type=row.content_type, platform=row.platform, thumbnail_url=row.thumbnail_url,
            source_url=row.source_url, processing_status=row.processing_status,
        )  # fmt: skip
    return base


# --- input ----------------------------------------------------------------------------


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={name: [message]})


def _coordinate(op: dict, name: str, *, low: Decimal = -COORDINATE_MAX, high: Decimal = COORDINATE_MAX) -> Decimal:
    value = op.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(name, f"{name} must be a number.")
    number = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if not low <= number <= high:
        raise _bad(name, f"{name} must be between {low} and {high}.")
    return number


def _size(op: dict, name: str) -> Decimal:
    return _coordinate(op, name, low=SIZE_MIN, high=SIZE_MAX)


def _title(op: dict, kind: str) -> str:
    value = op.get("title")
    if not isinstance(value, str):
        raise _bad("title", "Enter text.")
    text = value.strip()
    if kind != "content_piece" and not text:
        raise _bad("title", "A title is required.")
    if len(text) > TITLE_MAX[kind]:
        raise _bad("title", f"At most {TITLE_MAX[kind]} characters.")
    return text


def _color(value: Any, name: str = "color") -> str:
    if not isinstance(value, str) or not COLOR_RE.match(value):
        raise _bad(name, "Use a colour such as #3B82F6.")
    return value.upper()


def _bool(op: dict, name: str) -> bool:
    if not isinstance(op.get(name), bool):
        raise _bad(name, f"{name} must be true or false.")
    return op[name]


def _style(value: Any) -> dict:
    if not isinstance(value, dict) or not value or set(value) - {"color", "width"}:
        raise _bad("style", "style is an object with color and/or width.")
    style: dict = {}
    if "color" in value:
        style["color"] = _color(value["color"], "style")
    if "width" in value:
        width = value["width"]
        low, high = CONNECTION_WIDTH_RANGE
        if isinstance(width, bool) or not isinstance(width, int | float) or not low <= width <= high:
            raise _bad("style", f"style width must be a number from {low} to {high}.")
        style["width"] = width
    return style


def _kind(value: Any, allowed: tuple[str, ...], name: str = "kind") -> str:
    if value not in allowed:
        raise _bad(name, f"Choose one of {', '.join(allowed)}.")
    return value


def _uuid(value: Any, what: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(gettext("There is no such %(what)s on this board.") % {"what": what}) from None


def _version(op: dict) -> int:
    value = op.get("version")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad("version", "version must be the node's version (a positive integer).")
    return value


def _op_id(op: dict) -> str | None:
    value = op.get("op_id")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > OP_ID_MAX:
        raise _bad("op_id", f"op_id is a string of at most {OP_ID_MAX} characters.")
    return value


# --- the operations --------------------------------------------------------------------


def _rows(project: Project, kind: str):
    return MODELS[kind].objects.filter(account=project.account_id, project=project)


def _current(project: Project, kind: str, pk: UUID) -> Any:
    row = _rows(project, kind).filter(pk=pk).first()
    if row is None:
        raise NotFound(gettext("There is no such %(what)s on this board.") % {"what": kind.replace("_", " ")})
    return row


def _refused(kind: str, row: Any) -> Conflict:
    """The operation lost: the client gets the current row to redraw from."""
    current = node_row(kind, row)
    if row.deleted_at is not None:
        return Conflict(gettext("This node was deleted."), code="deleted", extra={"current": current})
    return Conflict(
        gettext("This node changed (now version %(version)s): redraw and try again.") % {"version": row.version},
        code="stale_version",
        extra={"current": current},
    )


def _update_returning(project: Project, kind: str, pk: UUID, version: int, live: bool, changes: dict) -> Any:
    """`UPDATE … WHERE id AND account AND project AND version AND deleted_at IS [NOT] NULL
    RETURNING *`: the row after it, or None when nothing matched. One round trip
    (the ORM's update() returns a count, and the row would cost a second query on
    the hot path of every move)."""
    model = MODELS[kind]
    meta = model._meta
    quote = db_connection.ops.quote_name
    assigns, params = [], []
    for name, value in {**changes, "updated_at": timezone.now()}.items():
        column = meta.get_field(name)
        assigns.append(f"{quote(column.column)} = %s")
        params.append(column.get_db_prep_save(value, db_connection))
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(assigns)}, {quote('version')} = {quote('version')} + 1"
        f" WHERE {quote('id')} = %s AND {quote('account_id')} = %s AND {quote('project_id')} = %s"
        f" AND {quote('version')} = %s AND {quote('deleted_at')} IS {'' if live else 'NOT '}NULL RETURNING *"
    )
    rows = list(model.objects.raw(sql, [*params, pk, project.account_id, project.pk, version]))
    return rows[0] if rows else None


def _conditional_update(project: Project, kind: str, pk: UUID, version: int, *, live: bool, **changes: Any) -> Any:
    """One `UPDATE … WHERE id AND version AND deleted_at IS [NOT] NULL`; the row after it, or a Conflict."""
    row = _update_returning(project, kind, pk, version, live, changes)
    if row is not None:
        return row
    row = _current(project, kind, pk)
    if live or row.deleted_at is not None:
        raise _refused(kind, row)
    raise Conflict(gettext("This node is not deleted."), code="not_deleted", extra={"current": node_row(kind, row)})


def _target(op: dict, kinds: tuple[str, ...]) -> tuple[str, UUID, int]:
    kind = _kind(op.get("kind"), kinds)
    return kind, _uuid(op.get("id"), kind.replace("_", " ")), _version(op)


def _move(project: Project, op: dict) -> BoardResult:
    kind, pk, version = _target(op, ("folder", "chat_interface", "content_piece"))
    x, y = _coordinate(op, "x"), _coordinate(op, "y")
    row = _conditional_update(project, kind, pk, version, live=True, position_x=x, position_y=y)
    return BoardResult("move", None, node_row(kind, row))


def _resize(project: Project, op: dict) -> BoardResult:
    kind, pk, version = _target(op, RESIZABLE)
    w, h = _size(op, "w"), _size(op, "h")
    row = _conditional_update(project, kind, pk, version, live=True, width=w, height=h)
    return BoardResult("resize", None, node_row(kind, row))


def _update(project: Project, op: dict) -> BoardResult:
    kind, pk, version = _target(op, ("folder", "chat_interface", "content_piece", CONNECTION))
    allowed = UPDATABLE[kind]
    given = {"title", "color", "collapsed", "style", "folder"} & set(op)
    if not given:
        raise InvalidInput(
            gettext("Say what to change: %(fields)s.") % {"fields": ", ".join(sorted(allowed))},
            fields={"op": ["Nothing to change."]},
        )
    refused = sorted(given - allowed)
    if refused:
        message = f"A {kind.replace('_', ' ')} has no {', '.join(refused)}."
        raise InvalidInput(message, fields={name: [message] for name in refused})
    changes: dict[str, Any] = {}
    if "title" in given:
        changes[TITLE_FIELD[kind]] = _title(op, kind)
    if "color" in given:
        changes["color"] = _color(op.get("color"))
    if "collapsed" in given:
        changes["is_collapsed"] = _bool(op, "collapsed")
    if "style" in given:
        current = _current(project, kind, pk).connection_style or {}
        changes["connection_style"] = {**current, **_style(op.get("style"))}
    folder = _filing_folder(project, op.get("folder")) if "folder" in given else None
    row = _conditional_update(project, kind, pk, version, live=True, **changes)
    node = node_row(kind, row)
    if "folder" in given:
        node["folder"] = _file(project, row, folder)
    return BoardResult("update", None, node)


def _filing_folder(project: Project, value: Any) -> CanvasFolder | None:
    """The live folder of this board that a piece is filed into (None: out of every folder)."""
    if value in (None, ""):
        return None
    folder = _current(project, "folder", _uuid(value, "folder"))
    if folder.deleted_at is not None:
        raise Conflict(
            gettext("This folder was deleted."), code="deleted", extra={"current": node_row("folder", folder)}
        )
    return folder


def _file(project: Project, piece: ContentPiece, folder: CanvasFolder | None) -> str | None:
    """File `piece` at the end of `folder` (seed 003 `canvas_folder_items` keep order),
    out of the other folders of the board; None takes it out of every folder. The
    piece's version moved with it, so two people filing one piece cannot both win."""
    items = CanvasFolderItem.objects.filter(account=project.account_id, folder__project=project, content_piece=piece)
    items.exclude(folder=folder).delete()
    if folder is None:
        return None
    last = CanvasFolderItem.objects.filter(account=project.account_id, folder=folder).aggregate(n=Max("sort_order"))
    CanvasFolderItem.objects.get_or_create(
        account_id=project.account_id, folder=folder, content_piece=piece,
        defaults={"sort_order": (last["n"] if last["n"] is not None else -1) + 1},
    )  # fmt: skip
    return str(folder.pk)


def _attached(project: Project, kind: str, pk: UUID):
    if kind == CONNECTION:
        return CanvasConnection.objects.none()
    column = END_FIELDS[NodeKind(kind)]
    return _rows(project, CONNECTION).filter(Q(**{f"source_{column}": pk}) | Q(**{f"target_{column}": pk}))


def _delete(project: Project, op: dict) -> BoardResult:
    kind, pk, version = _target(op, tuple(MODELS))
    now = timezone.now()
    row = _conditional_update(project, kind, pk, version, live=True, deleted_at=now)
    attached = _attached(project, kind, pk).filter(deleted_at__isnull=True)
    ids = list(attached.values_list("pk", flat=True))
    attached.update(deleted_at=now, version=F("version") + 1, updated_at=now)
    related = [node_row(CONNECTION, c) for c in _rows(project, CONNECTION).filter(pk__in=ids)]
    return BoardResult("delete", None, node_row(kind, row), related)


def _end_live(project: Project, connection: CanvasConnection) -> bool:
    for prefix in ("source", "target"):
        kind, pk = connection._end(prefix)
        if not _rows(project, kind).filter(pk=pk, deleted_at__isnull=True).exists():
            return False
    return True


def _restore(project: Project, op: dict) -> BoardResult:
    kind, pk, version = _target(op, tuple(MODELS))
    before = _current(project, kind, pk)
    deleted_at = before.deleted_at
    if kind == CONNECTION and deleted_at is not None and not _end_live(project, before):
        raise Conflict(gettext("Restore the nodes this connection joins first."), code="ends_deleted",
                       extra={"current": node_row(kind, before)})  # fmt: skip
    try:
        with transaction.atomic():
            row = _conditional_update(project, kind, pk, version, live=False, deleted_at=None)
    except IntegrityError:
        raise Conflict(gettext("These two nodes are already connected."), code="already_connected",
                       extra={"current": node_row(kind, before)}) from None  # fmt: skip
    related: list[NodeRow] = []
    # The connections deleted with the node (same instant) come back with it,
    # unless their other end is still deleted or the pair was connected again since.
    for connection in _attached(project, kind, pk).filter(deleted_at=deleted_at).order_by("created_at", "id"):
        if not _end_live(project, connection):
            continue
        try:
            with transaction.atomic():
                _rows(project, CONNECTION).filter(pk=connection.pk, deleted_at=deleted_at).update(
                    deleted_at=None, version=F("version") + 1, updated_at=timezone.now()
                )
        except IntegrityError:
            continue
        connection.refresh_from_db()
        related.append(node_row(CONNECTION, connection))
    return BoardResult("restore", None, node_row(kind, row), related)


def _create(project: Project, actor: Membership, op: dict) -> BoardResult:
    kind = _kind(op.get("kind"), CREATABLE)
    model = MODELS[kind]
    values: dict[str, Any] = {"position_x": _coordinate(op, "x"), "position_y": _coordinate(op, "y")}
    if "w" in op or "h" in op:
        values.update(width=_size(op, "w"), height=_size(op, "h"))
    if "title" in op:
        values[TITLE_FIELD[kind]] = _title(op, kind)
    elif kind == "folder":
        values["name"] = "New folder"
    for name in ("color", "collapsed"):
        if name in op and kind != "folder":
            raise _bad(name, f"A {kind.replace('_', ' ')} has no {name}.")
    if "color" in op:
        values["color"] = _color(op.get("color"))
    if "collapsed" in op:
        values["is_collapsed"] = _bool(op, "collapsed")
    row = model.objects.create(account_id=project.account_id, project=project, created_by=actor.user, **values)
    return BoardResult("create", None, node_row(kind, row))


def _end(project: Project, value: Any, name: str) -> tuple[str, Any]:
    if not isinstance(value, dict):
        raise _bad(name, f"{name} is an object with kind and id.")
    kind = _kind(value.get("kind"), tuple(k.value for k in NodeKind), name)
    row = _rows(project, kind).filter(pk=_uuid(value.get("id"), kind.replace("_", " "))).first()
    if row is None:
        raise NotFound(gettext("There is no such %(what)s on this board.") % {"what": kind.replace("_", " ")})
    if row.deleted_at is not None:
        raise Conflict(
            gettext("The %(name)s node was deleted.") % {"name": name},
            code="deleted",
            extra={"current": node_row(kind, row)},
        )
    return END_FIELDS[NodeKind(kind)], row


def _connect(project: Project, actor: Membership, op: dict) -> BoardResult:
    source_field, source = _end(project, op.get("source"), "source")
    target_field, target = _end(project, op.get("target"), "target")
    if source.pk == target.pk:
        raise _bad("target", "A node cannot be connected to itself.")
    style = {"color": "#6B7280", "width": 2}
    if "style" in op:
        style.update(_style(op.get("style")))
    try:
        with transaction.atomic():
            row = CanvasConnection.objects.create(
                account_id=project.account_id, project=project, created_by=actor.user, connection_style=style,
                **{f"source_{source_field}": source, f"target_{target_field}": target},
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(gettext("These two nodes are already connected."), code="already_connected") from None
    return BoardResult("connect", None, node_row(CONNECTION, row))


def _publish_on_commit(project: Project, actor: Membership, result: BoardResult) -> None:
    group, frame = board_group(project.account_id, project.pk), result.frame(actor)

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": "board.applied", "frame": frame})

    transaction.on_commit(send)


def board_apply(
    *, project: Project, actor: Membership, op: dict, publish: bool = True, savepoint: bool = True
) -> BoardResult:
    """Apply one board operation by `actor` (an editor or owner of `project`).

    `publish=False` is for the board socket, which sends `result.frame(actor)` to the
    group itself from its event loop once this has returned (committed): one hop
    fewer than publishing from the database thread.

    Refusals: Forbidden (viewers), Conflict (archived project; `stale_version`,
    `deleted`, `not_deleted`, `already_connected`, `ends_deleted` with the current
    row in `extra["current"]`), NotFound (a node not on this board), InvalidInput.
    """
    project_require(actor, project, ProjectPermission.EDITOR)
    if not isinstance(op, dict):
        raise InvalidInput(gettext("An operation is an object."), fields={"op": ["Send an object."]})
    name = op.get("op")
    if name not in OPS:
        raise _bad("op", f"Choose an operation: {', '.join(OPS)}.")
    op_id = _op_id(op)
    with transaction.atomic(savepoint=savepoint):
        # Board operations are many, small and superseded by the next one: their commit
        # does not wait for the WAL flush (ADR 0009: a crash can lose the last fraction
        # of a second of moves, never consistency; clients resync on reconnect).
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")
        projects = Project.objects.filter(account=project.account_id, pk=project.pk)
        archived = projects.values_list("is_archived", flat=True).first()
        if archived is None:
            raise NotFound(gettext("There is no such project."))
        if archived:
            raise Conflict(gettext("This project is archived: restore it to change its board."), code="archived")
        if name == "create":
            result = _create(project, actor, op)
        elif name == "connect":
            result = _connect(project, actor, op)
        else:
            result = {"move": _move, "resize": _resize, "update": _update, "delete": _delete, "restore": _restore}[
                name
            ](project, op)
        result = BoardResult(result.op, op_id, result.node, result.related)
        if publish:
            _publish_on_commit(project, actor, result)
    return result


CHAT_HISTORY_SHOWN = 50


def board_snapshot(*, project: Project, actor: Membership) -> BoardSnapshot:
    """Every live node and connection of the board, with their versions (a reload).
    Six queries, whatever the size of the board."""
    permission = project_require(actor, project, ProjectPermission.VIEWER)
    filed = list(
        CanvasFolderItem.objects.filter(account=project.account_id, folder__project=project,
                                        folder__deleted_at__isnull=True, content_piece__deleted_at__isnull=True)
        .order_by("-sort_order", "-folder_id").values_list("content_piece_id", "folder_id")
    )  # fmt: skip
    folder_of = {str(piece): str(folder) for piece, folder in filed}  # a piece in several folders: its first
    counts = Counter(str(folder) for _, folder in filed)
    nodes: list[NodeRow] = [node_row("folder", row) for row in _rows(project, "folder").filter(deleted_at__isnull=True)]
    for piece in _rows(project, "content_piece").filter(deleted_at__isnull=True):
        row = node_row("content_piece", piece)
        row["folder"] = folder_of.get(row["id"])
        nodes.append(row)
    for chat in _rows(project, "chat_interface").filter(deleted_at__isnull=True):
        row = node_row("chat_interface", chat)
        row["history"] = list(chat.chat_history or [])[-CHAT_HISTORY_SHOWN:]
        nodes.append(row)
    connections = [node_row(CONNECTION, row) for row in _rows(project, CONNECTION).filter(deleted_at__isnull=True)]
    pieces = [n["id"] for n in nodes if n["kind"] == "content_piece"]
    return BoardSnapshot(
        project_id=str(project.pk), permission=permission.value, canvas_data=project.canvas_data or {},
        nodes=nodes, connections=connections, folder_items=dict(counts), jobs=_latest_jobs(project, pieces),
    )  # fmt: skip


JOBS_READ = 500


def _latest_jobs(project: Project, pieces: list[str]) -> list[JobFrame]:
    """The latest job of each type of each piece (one query; the newest JOBS_READ jobs)."""
    if not pieces:
        return []
    jobs = ProcessingJob.objects.filter(account=project.account_id, job_data__content_piece_id__in=pieces)
    latest: dict[tuple[str, str], JobFrame] = {}
    for job in jobs.order_by("-created_at")[:JOBS_READ]:
        frame = job_frame(job)
        if frame is not None:
            latest.setdefault((frame["piece"], frame["job_type"]), frame)
    return list(latest.values())


def board_job_changed(store: Any, job: Any) -> None:
    """The queue's announcement (canvas store): a job of a piece changed status or
    progress; its project's open boards get a `job` frame after commit."""
    frame = job_frame(job)
    if frame is None:
        return
    with account_context(job.account_id):  # a worker's progress report runs outside it
        pieces = ContentPiece.objects.filter(account=job.account_id, pk=frame["piece"])
        project_id = pieces.values_list("project_id", flat=True).first()
    if project_id is None:
        return
    group = board_group(job.account_id, project_id)

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": "board.job", "frame": {"type": "job", "job": frame}})

    transaction.on_commit(send)


def board_publish(
    *, project: Project, kind: str, row: Any, actor: Membership | None = None, op: str = "update"
) -> None:
    """Tell the open boards of `project` that `row` changed outside an operation (a
    piece's processing status, a job's result): an `applied` frame with the row as
    it is, after commit. For other services of this app (content, queue)."""
    frame = AppliedFrame(
        type="applied", op=op, op_id=None,
        by=actor_payload(actor) if actor is not None else Actor(user_id="", name=""),
        node=node_row(kind, row), related=[],
    )  # fmt: skip
    group = board_group(project.account_id, project.pk)

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": "board.applied", "frame": frame})

    transaction.on_commit(send)
