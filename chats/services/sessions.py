"""Writes of chat sessions: create with a persona, rename, favorite, delete,
choose the branch shown, and the title made after the first exchange.

Title: a heuristic, not a model call: the first user message, first line,
Markdown marks dropped, cut at a word boundary to TITLE_CHARS. A model-written
title would cost every new chat a second call (credits and latency) for a label
the user can rename in one click.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext

from accounts.models import Account
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InvalidInput
from personas.selectors import persona_get_for_account

from ..models import ChatSession, Message
from ..selectors import deepest_leaf, message_get_in_session, message_tree, session_get_for_user
from .context import history_forget

TITLE_CHARS = 60
_MARKS = re.compile(r"[`*_#>\[\]]+")
_SPACE = re.compile(r"\s+")


def title_from(text: str) -> str:
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = _SPACE.sub(" ", _MARKS.sub("", line)).strip()
    if len(line) <= TITLE_CHARS:
        return line or "New chat"
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut.rstrip(" ,.;:-") + "…"


def session_create(*, account: Account, user, persona_id, title: str = "") -> ChatSession:
    """A new chat with a persona the account may use (else NotFound)."""
    with account_context(account.id):
        persona = persona_get_for_account(account, persona_id)
        return ChatSession.objects.create(account=account, user=user, persona=persona, title=_clean_title(title))


def _clean_title(title: Any) -> str:
    title = _SPACE.sub(" ", str(title or "")).strip()
    if len(title) > ChatSession._meta.get_field("title").max_length:
        raise InvalidInput(gettext("The title is too long."), fields={"title": ["At most 120 characters."]})
    return title


def session_update(*, account: Account, user, session_id, **changes: Any) -> ChatSession:
    """Rename (`title`) and star (`is_favorite`)."""
    unknown = set(changes) - {"title", "is_favorite"}
    if unknown:
        raise InvalidInput(gettext("Cannot change %(names)s.") % {"names": ", ".join(sorted(unknown))})
    with account_context(account.id):
        session = session_get_for_user(account, user, session_id, for_update=True)
        fields = []
        if "title" in changes:
            session.title = _clean_title(changes["title"])
            fields.append("title")
        if "is_favorite" in changes:
            session.is_favorite = bool(changes["is_favorite"])
            fields.append("is_favorite")
        if fields:
            session.save(update_fields=fields)
    return session


def session_delete(*, account: Account, user, session_id) -> None:
    """Delete a chat and its messages. An answer still streaming is stopped first
    (it is charged for what was generated), so nothing is left holding credits."""
    from .control import answer_stop  # control imports generation, which imports this module

    with account_context(account.id):
        session = session_get_for_user(account, user, session_id)
        streaming = Message.objects.filter(session=session, status=Message.Status.STREAMING).exists()
    if streaming:
        answer_stop(account=account, user=user, session_id=session_id, wait=True)
    with account_context(account.id):
        session_get_for_user(account, user, session_id, for_update=True).delete()
    history_forget(account.id, session_id)


def branch_select(*, account: Account, user, session_id, message_id) -> ChatSession:
    """Show the branch through `message_id` (continued by its newest answers)."""
    with account_context(account.id):
        session = session_get_for_user(account, user, session_id, for_update=True)
        message_get_in_session(session, message_id)
        if Message.objects.filter(session=session, status=Message.Status.STREAMING).exists():
            raise Conflict(
                gettext("Wait for the answer in progress to finish (or stop it)."), code="answer_in_progress"
            )
        by_id, children = message_tree(session)
        session.active_leaf = deepest_leaf(children, by_id[str(message_id)])
        session.save(update_fields=["active_leaf"])
    return session
