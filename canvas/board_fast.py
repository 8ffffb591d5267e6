"""The board socket's hot path: a move or a resize in one statement, on the event loop.

Drags and resizes are most of a board's traffic (every collaborator sends several a
second). The general path (`canvas.consumers._apply`) runs on a database thread: the
access query, the archived check and the conditional UPDATE through the ORM, about
seven round trips, each of which has to win the GIL back from the event loop that is
busy relaying frames. At 20 clients x 10 moves/s on two cores that queued moves for
hundreds of milliseconds (ADR 0009, "Board latency").

Here the same operation is one conditional statement on an async psycopg connection
of this event loop, pipelined with the transaction's settings (one round trip, no
thread, no ORM):

    UPDATE <node> SET …, version = version + 1
      FROM project, membership
     WHERE id AND account AND project AND version AND deleted_at IS NULL
       AND NOT project.is_archived
       AND the member may edit (account owner/admin, or a member who is the
           project's editor/owner collaborator: canvas.access.effective_permission)
    RETURNING …

under the tenant's row-level security (`app.account_id`, transaction-local) and
`synchronous_commit = off` like every board operation. When it changes no row (a
stale version, a deleted node, a viewer, an archived project, a node of another
board) or the input is not a well-formed move/resize, it returns None and the caller
runs the general path, which says precisely why (or applies the operation if the
row changed meanwhile): refusals and their precedence are the general path's.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

from accounts.models import Membership, Role
from aiplatform.errors import ServiceError

from .models import Project, ProjectCollaborator, ProjectPermission
from .services.board import (
    MODELS,
    RESIZABLE,
    TITLE_FIELD,
    Actor,
    AppliedFrame,
    _coordinate,
    _op_id,
    _size,
    _target,
    node_row,
)

log = logging.getLogger("canvas.board")

MOVABLE = ("folder", "chat_interface", "content_piece")
ADMIN_ROLES = [r.value for r in Role if Role(r).at_least(Role.ADMIN)]
COLLABORATOR_ROLES = [r.value for r in Role if not Role(r).at_least(Role.ADMIN) and r != Role.VIEWER]
EDITING_LEVELS = [p.value for p in ProjectPermission if p.at_least(ProjectPermission.EDITOR)]
_SETTINGS = "SELECT set_config('app.account_id', %s, true), set_config('synchronous_commit', 'off', true)"


@dataclass(frozen=True)
class FastOp:
    name: str  # "move" | "resize"
    op_id: str | None
    kind: str
    pk: Any
    version: int
    changes: dict[str, Decimal]  # column -> value


def fast_parse(op: dict) -> FastOp | None:
    """The move or resize in `op`, or None (another operation, or input the general
    path must refuse with its own message)."""
    name = op.get("op")
    try:
        if name == "move":
            kind, pk, version = _target(op, MOVABLE)
            changes = {"position_x": _coordinate(op, "x"), "position_y": _coordinate(op, "y")}
        elif name == "resize":
            kind, pk, version = _target(op, RESIZABLE)
            changes = {"width": _size(op, "w"), "height": _size(op, "h")}
        else:
            return None
        return FastOp(name, _op_id(op), kind, pk, version, changes)
    except ServiceError:
        return None


def _returned(kind: str) -> list[str]:
    """The columns node_row reads for `kind` (as the model's attribute names)."""
    names = ["version", "deleted_at", "position_x", "position_y", TITLE_FIELD[kind]]
    if kind in RESIZABLE:
        names += ["width", "height"]
    if kind == "folder":
        names += ["color", "is_collapsed"]
    if kind == "content_piece":
        names += ["content_type", "platform", "thumbnail_url", "source_url", "processing_status"]
    return names


def _sql(kind: str, columns: tuple[str, ...]) -> tuple[str, list[str]]:
    meta = MODELS[kind]._meta
    node, project, member, collaborator = (
        meta.db_table, Project._meta.db_table, Membership._meta.db_table, ProjectCollaborator._meta.db_table,
    )  # fmt: skip
    returned = _returned(kind)
    sets = ", ".join(f'"{meta.get_field(c).column}" = %s' for c in columns)
    sql = (
        f'UPDATE "{node}" AS n SET {sets}, "updated_at" = %s, "version" = n."version" + 1'
        f' FROM "{project}" AS p, "{member}" AS m'
        ' WHERE n."id" = %s AND n."account_id" = %s AND n."project_id" = %s AND n."version" = %s'
        ' AND n."deleted_at" IS NULL'
        ' AND p."id" = n."project_id" AND p."account_id" = n."account_id" AND NOT p."is_archived"'
        ' AND m."account_id" = n."account_id" AND m."user_id" = %s'
        ' AND (m."role" = ANY(%s) OR (m."role" = ANY(%s) AND EXISTS ('
        f' SELECT 1 FROM "{collaborator}" AS c WHERE c."account_id" = n."account_id"'
        ' AND c."project_id" = n."project_id" AND c."user_id" = m."user_id" AND c."permission_level" = ANY(%s))))'
        f' RETURNING n."id" AS pk, {", ".join(f"n.{meta.get_field(c).column} AS {c}" for c in returned)}'
    )
    return sql, returned


_STATEMENTS: dict[tuple[str, tuple[str, ...]], str] = {}


def _statement(kind: str, columns: tuple[str, ...]) -> str:
    key = (kind, columns)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = _sql(kind, columns)[0]
    return _STATEMENTS[key]


# --- connections: a small async pool per event loop ---------------------------------------------

_POOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _conninfo() -> str:
    from psycopg.conninfo import make_conninfo

    params = connections["default"].get_connection_params()
    keep = {k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port", "sslmode")}
    return make_conninfo(**{k: str(v) for k, v in keep.items() if v not in (None, "")})


async def _pool():
    from psycopg_pool import AsyncConnectionPool

    loop = asyncio.get_running_loop()
    entry = _POOLS.get(loop)
    if entry is None:
        size = max(1, int(getattr(settings, "CANVAS_DB_THREADS", 4)))
        pool = AsyncConnectionPool(_conninfo(), min_size=1, max_size=size, open=False, name="canvas-board",
                                   kwargs={"autocommit": False}, timeout=settings.DATABASE_POOL_TIMEOUT)  # fmt: skip
        entry = _POOLS[loop] = {"pool": pool, "opened": asyncio.Lock(), "open": False}
    if not entry["open"]:
        async with entry["opened"]:
            if not entry["open"]:
                await entry["pool"].open(wait=False)
                entry["open"] = True
    return entry["pool"]


_SOCKETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> open board sockets


def fast_attach() -> None:
    """A board socket of this event loop opened."""
    loop = asyncio.get_running_loop()
    _SOCKETS[loop] = _SOCKETS.get(loop, 0) + 1


async def fast_detach() -> None:
    """A board socket closed; the last one of this event loop closes its pool (no idle
    connections left behind by a loop that ends, e.g. a test's; the next socket opens
    a new one)."""
    loop = asyncio.get_running_loop()
    _SOCKETS[loop] = max(0, _SOCKETS.get(loop, 0) - 1)
    if not _SOCKETS[loop]:
        await fast_close()


async def fast_close() -> None:
    """Close this event loop's pool."""
    entry = _POOLS.pop(asyncio.get_running_loop(), None)
    if entry is not None and entry["open"]:
        await entry["pool"].close()


# --- the operation ------------------------------------------------------------------------------


async def fast_apply(op: FastOp, *, user_id: Any, account_id: str, project_id: str, by: Actor) -> AppliedFrame | None:
    """Apply `op` for the user in one statement; its `applied` frame, or None when it
    changed nothing (or the database could not be reached): run the general path."""
    columns = tuple(op.changes)
    sql = _statement(op.kind, columns)
    params = [
        *op.changes.values(), timezone.now(), op.pk, account_id, project_id, op.version, user_id,
        ADMIN_ROLES, COLLABORATOR_ROLES, EDITING_LEVELS,
    ]  # fmt: skip
    try:
        pool = await _pool()
        async with pool.connection() as conn:
            # One round trip: the settings, the statement and the commit (of nothing when
            # no row matched) go out together.
            async with conn.pipeline():
                await conn.execute(_SETTINGS, [account_id])
                cursor = await conn.execute(sql, params)
                await conn.commit()
            row = await cursor.fetchone()
        if row is None:
            return None
        names = ["pk", *_returned(op.kind)]
    except Exception:  # the general path (Django's connection) answers instead
        log.warning("board fast path failed; the general path takes the operation", exc_info=True)
        return None
    node = node_row(op.kind, SimpleNamespace(**dict(zip(names, row, strict=True))))
    return AppliedFrame(type="applied", op=op.name, op_id=op.op_id, by=by, node=node, related=[])
