"""What the model is given for one answer: the persona's system prompt, the
knowledge passages retrieved for the question, and as much of the conversation
as fits the model's context window.

Token estimate: `aiplatform.ai.pricing` (ceil(ASCII chars / 4) + other chars,
plus 4 per message), the same estimate the gateway checks the window with.
Budget: context window - the answer's max tokens - system prompt and passages.
The conversation is trimmed from the oldest message (no summaries: a summary
would cost a model call on every long chat and can drop what the user asked to
keep); the newest user message always goes in, or the send fails with
`context_too_long`. Passages are dropped (last first) before that happens.

Session state (seed 000): the recent conversation of the active branch is cached
in Redis, keyed by account and session and tagged with the branch's leaf, so a
follow-up message reads no history from PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

from accounts.tenancy.context import account_context
from aiplatform.ai.pricing import MESSAGE_OVERHEAD, estimate_tokens
from aiplatform.ai.registry import ModelEntry
from aiplatform.ai.types import ChatMessage
from aiplatform.errors import InvalidInput, ServiceError

log = logging.getLogger("chats.context")

ROLE_OF_SENDER = {"user": "user", "bot": "assistant", "system": "system"}


@dataclass(frozen=True)
class Passage:
    text: str
    citation: dict[str, Any]  # shown under the answer: {"n", "title", "source", ...}


@dataclass(frozen=True)
class Prompt:
    messages: list[ChatMessage]
    citations: list[dict[str, Any]]
    tokens: int  # estimated prompt tokens
    dropped: int = 0  # conversation messages left out to fit
    history: list[tuple[str, str]] = field(default_factory=list)  # what was kept, for the cache


# --- retrieval ---------------------------------------------------------------------------


def passages_for(*, account, persona, query: str, user=None) -> list[Passage]:
    """Knowledge passages of the persona's decision units for `query` (hybrid search,
    knowledge.services.retrieval). The one place that talks to the knowledge app; an
    answer without passages is still an answer, so a retrieval failure is logged,
    not raised."""
    if persona is None or not query.strip():
        return []
    from personas.passages import persona_passages

    try:
        # Its own transaction in the tenant context (retrieval reads tenant rows), after
        # the answer's rows were committed: no lock is held while the question is embedded.
        with account_context(account.id):
            found = persona_passages(account=account, persona=persona, query=query,
                                     limit=settings.CHAT_RETRIEVAL_PASSAGES, user=user)  # fmt: skip
    except ServiceError as exc:  # e.g. a question longer than a search takes
        log.info("no passages for persona %s: %s", persona.pk, exc.message)
        return []
    except Exception:  # retrieval is an enhancement: never lose the answer over it
        log.exception("retrieval failed for persona %s", persona.pk)
        return []
    passages = []
    for n, hit in enumerate(found, start=1):
        passages.append(Passage(text=hit.text, citation={"n": n, **hit.citation}))
    return passages


def passages_budget() -> int:
    """Prompt tokens kept for passages while the conversation is trimmed."""
    return settings.CHAT_RETRIEVAL_PASSAGES * settings.CHAT_PASSAGE_TOKENS


# --- the prompt ---------------------------------------------------------------------------


def _tokens(text: str) -> int:
    return estimate_tokens(text) + MESSAGE_OVERHEAD


def system_text(system_prompt: str, passages: Sequence[Passage]) -> str:
    if not passages:
        return system_prompt
    lines = [system_prompt.rstrip(), "", "Knowledge passages (cite them as [n] where you use them):"]
    for p in passages:
        title = p.citation.get("title") or p.citation.get("source") or ""
        lines.append(f"[{p.citation['n']}] {title}\n{p.text.strip()}".rstrip())
    return "\n".join(lines).strip()


def prompt_build(
    *, entry: ModelEntry, system_prompt: str, passages: Sequence[Passage], history: Sequence[tuple[str, str]],
    question: str, answer_tokens: int, reserve_tokens: int = 0,
) -> Prompt:  # fmt: skip
    """The messages for the gateway. `history` is the conversation before
    `question`, oldest first, as (role, content); `reserve_tokens` are kept free
    (for passages that come later)."""
    budget = entry.context_window - answer_tokens - reserve_tokens
    question_tokens = _tokens(question)
    kept_passages = list(passages)
    system = system_text(system_prompt, kept_passages)
    while kept_passages and _tokens(system) + question_tokens > budget:
        kept_passages.pop()
        system = system_text(system_prompt, kept_passages)
    used = (_tokens(system) if system else 0) + question_tokens
    if used > budget:
        raise InvalidInput(
            gettext(
                "The message is too long for %(model)s: about %(used)s tokens with the persona's instructions, "
                "and %(window)s fit with room for the answer."
            )
            % {"model": entry.name, "used": used, "window": entry.context_window},
            code="context_too_long",
            fields={"content": ["Too long for this persona's model."]},
        )
    kept: list[tuple[str, str]] = []
    for role, content in reversed(history):
        cost = _tokens(content)
        if used + cost > budget:
            break
        kept.append((role, content))
        used += cost
    kept.reverse()
    messages = ([ChatMessage("system", system)] if system else []) + [ChatMessage(r, c) for r, c in kept]
    messages.append(ChatMessage("user", question))
    return Prompt(
        messages=messages, citations=[p.citation for p in kept_passages], tokens=used,
        dropped=len(history) - len(kept), history=kept,
    )  # fmt: skip


# --- session state in Redis ------------------------------------------------------------


def _cache_key(account_id, session_id) -> str:
    return f"chat:ctx:{account_id}:{session_id}"


def history_cached(account_id, session_id, leaf_id) -> list[tuple[str, str]] | None:
    """The cached conversation ending at `leaf_id`, or None (missing, or another branch)."""
    found = cache.get(_cache_key(account_id, session_id))
    if not found or found.get("leaf") != str(leaf_id):
        return None
    return [tuple(m) for m in found["messages"]]


def history_remember(account_id, session_id, leaf_id, messages: Sequence[tuple[str, str]]) -> None:
    recent = list(messages)[-settings.CHAT_CONTEXT_CACHE_MESSAGES :]
    cache.set(
        _cache_key(account_id, session_id),
        {"leaf": str(leaf_id), "messages": [list(m) for m in recent]},
        timeout=settings.CHAT_CONTEXT_CACHE_SECONDS,
    )


def history_forget(account_id, session_id) -> None:
    cache.delete(_cache_key(account_id, session_id))
