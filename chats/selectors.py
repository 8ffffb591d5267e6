"""Reads of chats. The account comes first, then the user: a session is its
user's alone (seed 000), so another member's or another account's session is
NotFound (404), exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.errors import NotFound
from personas.models import Persona

from .models import ChatSession, Message
from .services.context import ROLE_OF_SENDER


def sessions_for_user(account: Account, user, *, search: str = "") -> QuerySet[ChatSession]:
    """The sidebar: favorites first, then by last activity. `search` matches the
    title or any message of the session."""
    queryset = ChatSession.objects.filter(account=account, user=user)
    search = search.strip()
    if search:
        said = Message.objects.filter(account=account, session=OuterRef("pk"), content__icontains=search)
        queryset = queryset.filter(Q(title__icontains=search) | Exists(said))
    return queryset.select_related("persona").order_by("-is_favorite", "-last_active", "-id")


def session_get_for_user(account: Account, user, session_id: UUID | str, *, for_update: bool = False) -> ChatSession:
    queryset = ChatSession.objects.filter(account=account, user=user).select_related("persona")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=session_id)
    except (ChatSession.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(gettext("There is no such chat."))


_SESSION_FIELDS = ("id", "account_id", "user_id", "persona_id", "title", "is_favorite", "active_leaf_id", "last_active",
                   "created_at")  # fmt: skip
_PERSONA_FIELDS = ("id", "account_id", "name", "role_title", "system_prompt", "model_config", "is_public")
# One statement on the hot path of every answer (hand-written: composing it with the
# ORM cost more time than running it). Row-level security applies as to any query.
_SESSION_FOR_ANSWER_SQL = f"""
SELECT {", ".join(f"s.{c}" for c in _SESSION_FIELDS)}, {", ".join(f"p.{c}" for c in _PERSONA_FIELDS)},
       (SELECT m.role FROM accounts_membership m WHERE m.account_id = s.account_id AND m.user_id = s.user_id),
       EXISTS (SELECT 1 FROM chats_message a
                WHERE a.account_id = s.account_id AND a.session_id = s.id AND a.status = 'streaming'),
       EXISTS (SELECT 1 FROM personas_personadecisionunit u
                WHERE u.account_id = s.account_id AND u.persona_id = s.persona_id)
  FROM chats_chatsession s LEFT JOIN personas_persona p ON p.id = s.persona_id
 WHERE s.account_id = %s AND s.user_id = %s AND s.id = %s
   FOR UPDATE OF s
"""


def _instance(model, names: tuple[str, ...], values: tuple):
    """A model instance from raw column values, through each field's database converters."""
    converted = []
    for name, value in zip(names, values, strict=True):
        field = model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") and name != "id" else name)
        if value is not None:
            for convert in field.get_db_converters(connection):
                value = convert(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, list(names), converted)


def session_for_answer(account: Account, user, session_id: UUID | str) -> ChatSession:
    """The chat locked for a new answer, in one statement: with its persona, the
    user's role in the account now (`member_role`, None when no longer a member),
    whether an answer is still streaming in it (`answering`), and whether its
    persona reads decision units in this account (`reads_units`)."""
    try:
        session_uuid = UUID(str(session_id))
    except ValueError:
        raise NotFound(gettext("There is no such chat."))
    with connection.cursor() as cur:
        cur.execute(_SESSION_FOR_ANSWER_SQL, [account.id, user.pk, session_uuid])
        row = cur.fetchone()
    if row is None:
        raise NotFound(gettext("There is no such chat."))
    n, k = len(_SESSION_FIELDS), len(_PERSONA_FIELDS)
    session = _instance(ChatSession, _SESSION_FIELDS, row[:n])
    persona_row = row[n : n + k]
    # RLS hides a persona the account may no longer read: the join then finds nothing.
    session.persona = _instance(Persona, _PERSONA_FIELDS, persona_row) if persona_row[0] is not None else None
    session.member_role, session.answering, session.reads_units = row[n + k :]
    return session


def message_get_in_session(session: ChatSession, message_id: UUID | str) -> Message:
    try:
        return Message.objects.get(account_id=session.account_id, session=session, pk=message_id)
    except (Message.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(gettext("There is no such message in this chat."))


def streaming_answer(session: ChatSession) -> Message | None:
    return Message.objects.filter(
        account_id=session.account_id, session=session, status=Message.Status.STREAMING
    ).first()


@dataclass(frozen=True)
class BranchMessage:
    """A message on the branch shown, with its alternatives (same parent, same sender)."""

    message: Message
    siblings: list[str]  # ids, oldest first, this one included

    @property
    def branch_index(self) -> int:
        return self.siblings.index(str(self.message.pk))


def message_tree(session: ChatSession) -> tuple[dict[str, Message], dict[str | None, list[Message]]]:
    """Every message of the session in one query; children by parent, oldest first."""
    by_id: dict[str, Message] = {}
    children: dict[str | None, list[Message]] = {}
    for m in Message.objects.filter(account_id=session.account_id, session=session).order_by("created_at", "id"):
        by_id[str(m.pk)] = m
        children.setdefault(str(m.parent_id) if m.parent_id else None, []).append(m)
    return by_id, children


def _path(by_id: dict[str, Message], leaf_id: str | None) -> list[Message]:
    path: list[Message] = []
    current = by_id.get(leaf_id) if leaf_id else None
    while current is not None:
        path.append(current)
        current = by_id.get(str(current.parent_id)) if current.parent_id else None
    path.reverse()
    return path


def deepest_leaf(children: dict[str | None, list[Message]], message: Message) -> Message:
    """Follow the newest child down to a leaf: the branch that continues `message`."""
    current = message
    while children.get(str(current.pk)):
        current = children[str(current.pk)][-1]
    return current


def branch_of(session: ChatSession, leaf_id: UUID | str | None = None) -> list[BranchMessage]:
    """Messages from the first to `leaf_id` (default: the session's active leaf).

    A `leaf_id` inside the tree shows the branch through it, continued by the
    newest answers below it. Unknown ids are NotFound.
    """
    by_id, children = message_tree(session)
    if leaf_id is None:
        start = str(session.active_leaf_id) if session.active_leaf_id else None
    else:
        start = str(leaf_id)
        if start not in by_id:
            raise NotFound(gettext("There is no such message in this chat."))
    leaf = deepest_leaf(children, by_id[start]) if start in by_id else None
    path = _path(by_id, str(leaf.pk) if leaf else None)
    result = []
    for m in path:
        siblings = [s for s in children.get(str(m.parent_id) if m.parent_id else None, []) if s.sender == m.sender]
        result.append(BranchMessage(message=m, siblings=[str(s.pk) for s in siblings]))
    return result


def history_of(session: ChatSession, leaf_id: UUID | str | None) -> list[tuple[str, str]]:
    """(role, content) of the branch ending at `leaf_id` (inclusive), for the prompt.

    Answers that failed or were withheld are left out: the model should not
    continue from an error."""
    if leaf_id is None:
        return []
    by_id, _ = message_tree(session)
    return [
        (ROLE_OF_SENDER[m.sender], m.content)
        for m in _path(by_id, str(leaf_id))
        if m.content and m.status != Message.Status.ERROR and m.sender != Message.Sender.SYSTEM
    ]
