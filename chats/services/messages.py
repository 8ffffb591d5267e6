"""Writes of messages around one answer: everything before the model is asked
(`answer_request`) and everything after it ended (`answer_finish`). The model
call and the streaming in between are `generation.py`'s.

`answer_request` runs in one transaction in the account's context: it counts the
message against the rate limits (Redis), locks the session, checks the persona
and the model, builds the prompt, stores the user's message and the answer's
placeholder (status streaming), and holds the answer's estimated price
(billing reservation). Any refusal (bad input 400, persona 404, shut-off 403,
busy 409, rate limit 429, credits 402) leaves nothing behind.
"""

from __future__ import annotations

import copy
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, Role
from accounts.tenancy.context import account_context
from aiplatform.ai.guard import call_guard
from aiplatform.ai.pricing import credits_for
from aiplatform.ai.registry import ModelEntry, model_entry
from aiplatform.errors import Conflict, Forbidden, InsufficientCredits, InvalidInput, NotFound
from billing.models import CreditTransaction, Reservation, UsageRecord
from billing.services.ledger import Reference, wallet_debit
from billing.services.limits import generation_check
from billing.services.reservations import reservation_hold, reservation_release, reservation_settle
from billing.services.usage import usage_charge_add, usage_record

from ..models import ChatSession, Message
from ..selectors import history_of, message_get_in_session, session_for_answer
from . import context
from .ratelimits import answer_slot_acquire, answer_slot_release
from .sessions import title_from

log = logging.getLogger("chats")

FEATURE = "chat"
REFERENCE_TYPE = "chat_message"


class PersonaUnavailable(NotFound):
    code = "persona_unavailable"


@dataclass(frozen=True)
class Prepared:
    """An answer ready to stream: its rows exist, its credits are held."""

    account: Account
    user: Any
    session_id: str
    question: str
    user_message: Message | None  # None when an answer is regenerated
    answer: Message
    entry: ModelEntry
    temperature: float | None
    max_tokens: int | None
    prompt: context.Prompt
    system_prompt: str  # for the output guard; never sent to a client
    reservation_id: uuid.UUID | None  # None for a free model
    first_exchange: bool  # the session has no title yet

    @property
    def answer_id(self) -> str:
        return str(self.answer.pk)


@dataclass(frozen=True)
class Outcome:
    """How an answer ended, as the generation saw it."""

    status: str  # Message.Status: complete, stopped, error
    text: str  # what is stored ("" for a withheld answer)
    tokens_in: int = 0
    tokens_out: int = 0
    extra_charge: Decimal = Decimal("0")  # delivered before a provider error: charged here
    usage_record_id: Any = None  # the gateway's record of the call (None when it never recorded one)
    error_code: str = ""
    error_message: str = ""
    citations: list = field(default_factory=list)


def content_clean(content: Any) -> str:
    if content is not None and not isinstance(content, str):
        raise InvalidInput(gettext("A message is text."), fields={"content": ["Send text."]})
    text = (content or "").strip()
    if not text:
        raise InvalidInput(gettext("Type a message to send."), fields={"content": ["This field is required."]})
    if len(text) > settings.CHAT_MAX_MESSAGE_CHARS:
        raise InvalidInput(
            gettext("The message is too long: %(n)s characters, at most %(CHAT_MAX_MESSAGE_CHARS)s.")
            % {"n": len(text), "CHAT_MAX_MESSAGE_CHARS": settings.CHAT_MAX_MESSAGE_CHARS},
            fields={"content": [f"At most {settings.CHAT_MAX_MESSAGE_CHARS} characters."]},
        )
    return text


def _persona(account: Account, session: ChatSession):
    """The chat's persona if the account may still use it: the rule of
    `personas.selectors.personas_visible_to` (its own, or a public platform one),
    applied to the row joined with the session (row-level security already hid
    any other account's)."""
    persona = session.persona
    if session.persona_id is None or persona is None:
        raise PersonaUnavailable(gettext("The persona of this chat is no longer available. Start a new chat."))
    if persona.account_id != account.id and not (persona.account_id is None and persona.is_public):
        raise PersonaUnavailable(gettext("This chat's persona is no longer available to your account."))
    return persona


def answer_request(
    *,
    account: Account,
    user,
    session_id,
    content: Any = None,
    edit_of=None,
    regenerate=None,
) -> Prepared:
    """Prepare one answer: to `content` (after the active branch, or replacing the
    user message `edit_of`: a new branch), or again to the question of `regenerate`
    (a bot or user message: a new sibling answer)."""
    question = content_clean(content) if regenerate is None else ""
    answer_id = uuid.uuid4()
    answer_slot_acquire(account_id=account.id, user_id=user.pk, answer_id=answer_id)
    try:
        return _prepare(account, user, session_id, question, edit_of, regenerate, answer_id)
    except BaseException:
        answer_slot_release(account_id=account.id, user_id=user.pk, answer_id=answer_id)
        raise


def _prepare(account, user, session_id, question, edit_of, regenerate, answer_id) -> Prepared:
    with account_context(account.id):
        _commit_without_waiting_for_disk()
        session = session_for_answer(account, user, session_id)
        # Checked on every message: a member removed (or made a viewer) mid-connection stops here.
        if session.member_role is None or not Role(session.member_role).at_least(Role.MEMBER):
            raise Forbidden(gettext("Viewers can read chats but not send messages."))
        if session.answering:
            raise Conflict(
                gettext("An answer is still being written in this chat. Stop it or wait."), code="answer_in_progress"
            )
        persona = _persona(account, session)
        config = persona.model_config or {}
        entry = model_entry(config.get("model", ""))
        call_guard(account=account)  # the emergency shut-off (403), before anything is stored
        generation_check(account=account)  # the plan's monthly generations (409 plan_limit_reached)

        question_message, parent_id = None, session.active_leaf_id
        if regenerate is not None:
            target = message_get_in_session(session, regenerate)
            question_message = target if target.sender == Message.Sender.USER else target.parent
            if question_message is None or question_message.sender != Message.Sender.USER:
                raise InvalidInput(gettext("Only an answer to a message can be regenerated."), code="not_regenerable")
            question, parent_id = question_message.content, question_message.parent_id
        elif edit_of is not None:
            edited = message_get_in_session(session, edit_of)
            if edited.sender != Message.Sender.USER:
                raise InvalidInput(gettext("Only your own messages can be edited."), code="not_editable")
            parent_id = edited.parent_id

        history = context.history_cached(account.id, session.pk, parent_id) if parent_id else []
        if history is None:
            history = history_of(session, parent_id)
        max_tokens = config.get("max_tokens")
        answer_tokens = int(max_tokens or entry.max_output_tokens)
        # Passages are retrieved after this transaction (an embedding call is no work to
        # do holding a lock, and its usage record must not roll back with a refusal):
        # room for them is kept here and priced into the hold.
        reserve = context.passages_budget() if session.reads_units else 0
        draft = context.prompt_build(
            entry=entry, system_prompt=persona.system_prompt, passages=[], history=history, question=question,
            answer_tokens=answer_tokens, reserve_tokens=reserve,
        )  # fmt: skip

        estimate = credits_for(entry, draft.tokens + reserve, answer_tokens)
        reservation_id = None
        if estimate > 0:
            reservation_id = reservation_hold(
                account=account, amount=estimate, type=CreditTransaction.Type.CHAT_BURN, actor=user,
                reference=Reference(REFERENCE_TYPE, str(answer_id)),
                ttl=timedelta(seconds=settings.CHAT_GENERATION_TIMEOUT_SECONDS + 3600),
            ).id  # fmt: skip

        user_message = None
        if question_message is None:
            question_message = user_message = Message(
                account=account, session=session, parent_id=parent_id, sender=Message.Sender.USER, content=question
            )
        answer = Message(
            id=answer_id, account=account, session=session, parent=question_message, sender=Message.Sender.BOT,
            status=Message.Status.STREAMING, model=entry.name, reservation_id=reservation_id,
        )  # fmt: skip
        if user_message is not None:
            answer.created_at = user_message.created_at + timedelta(microseconds=1)
        _store(session, [m for m in (user_message, answer) if m is not None])
    prompt = draft
    if session.reads_units:
        passages = context.passages_for(account=account, persona=persona, query=question, user=user)
        prompt = context.prompt_build(
            entry=entry, system_prompt=persona.system_prompt, passages=passages, history=draft.history,
            question=question, answer_tokens=answer_tokens,
        )  # fmt: skip
    return Prepared(
        account=account, user=user, session_id=str(session.pk), question=question, user_message=user_message,
        answer=answer, entry=entry, temperature=config.get("temperature"), max_tokens=max_tokens, prompt=prompt,
        system_prompt=persona.system_prompt, reservation_id=reservation_id, first_exchange=not session.title,
    )  # fmt: skip


_MESSAGE_COLUMNS = ("id", "account_id", "session_id", "parent_id", "sender", "content", "status", "model",
                    "reservation_id", "created_at")  # fmt: skip
_MESSAGE_TYPES = {"id": "uuid", "account_id": "uuid", "session_id": "uuid", "parent_id": "uuid",
                  "reservation_id": "uuid", "created_at": "timestamptz"}  # fmt: skip


def _store(session: ChatSession, messages: list[Message]) -> None:
    """Insert the messages and make the last one the chat's active leaf, in one
    statement (the hot path of every answer; the leaf's foreign key is checked at
    commit). The other columns take their defaults."""
    row = "(" + ", ".join(f"%s::{_MESSAGE_TYPES.get(c, 'text')}" for c in _MESSAGE_COLUMNS) + ")"
    rows = ", ".join([row] * len(messages))
    sql = (
        f"WITH stored AS (INSERT INTO chats_message ({', '.join(_MESSAGE_COLUMNS)}, error_code, error_message,"
        f" tokens_in, tokens_out, credits_charged, citations) SELECT *, '', '', 0, 0, 0, '[]'::jsonb FROM"
        f" (VALUES {rows}) AS v RETURNING 1)"
        " UPDATE chats_chatsession SET active_leaf_id = %s, last_active = %s WHERE id = %s AND account_id = %s"
    )  # fmt: skip
    params = [getattr(m, c) for m in messages for c in _MESSAGE_COLUMNS]
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(sql, [*params, messages[-1].pk, now, session.pk, session.account_id])
    session.active_leaf, session.last_active = messages[-1], now


def _commit_without_waiting_for_disk() -> None:
    """This transaction's commit returns before its WAL reaches the disk (PostgreSQL
    `synchronous_commit = off`, this transaction only): the wait is on every answer's
    time to first token. A database crash in the next few hundred milliseconds can
    lose the whole transaction, never part of it: the question, the placeholder and
    the credit hold go together (nothing is charged by a hold). The charge itself
    (the gateway's settle) commits durably."""
    with connection.cursor() as cur:
        cur.execute("SELECT set_config('synchronous_commit', 'off', true)")


@dataclass(frozen=True)
class Finished:
    message: Message | None  # None when the chat was deleted meanwhile
    title: str


_TOUCH_SQL = """
UPDATE chats_chatsession
   SET last_active = now(), title = CASE WHEN title = '' THEN %s ELSE title END
 WHERE id = %s AND account_id = %s
RETURNING title
"""


def answer_finish(prepared: Prepared, outcome: Outcome) -> Finished:
    """Store how the answer ended; title the chat after its first exchange; close
    the credit hold; free the answer's slot. Four statements in one transaction."""
    account, answer_id = prepared.account, prepared.answer.pk
    title, message = "", None
    try:
        with account_context(account.id):
            credits = hold_close(account, prepared.reservation_id, outcome, prepared.entry, prepared.user, answer_id)
            if outcome.usage_record_id is None and credits > 0:
                # The gateway never recorded the call, yet its text was charged: usage shows it.
                usage_record(
                    account=account, user=prepared.user, feature=FEATURE, model=prepared.entry.name,
                    provider=prepared.entry.provider, tokens_in=outcome.tokens_in, tokens_out=outcome.tokens_out,
                    credits=credits, status=UsageRecord.Status.ERROR, error="closed by chats: no record of the call",
                    reference=Reference(REFERENCE_TYPE, str(answer_id)),
                )  # fmt: skip
            fields = {
                "status": outcome.status, "content": outcome.text, "tokens_in": outcome.tokens_in,
                "tokens_out": outcome.tokens_out, "credits_charged": credits, "error_code": outcome.error_code,
                "error_message": outcome.error_message[:500],
                "citations": outcome.citations or prepared.prompt.citations, "completed_at": timezone.now(),
            }  # fmt: skip
            updated = Message.objects.filter(account=account, pk=answer_id, status=Message.Status.STREAMING).update(
                **fields
            )
            # The first exchange names the chat, unless it failed or the user named it meanwhile.
            named = title_from(prepared.question) if prepared.first_exchange and outcome.status != "error" else ""
            with connection.cursor() as cur:
                cur.execute(_TOUCH_SQL, [named, prepared.session_id, account.id])
                row = cur.fetchone()
            title = row[0] if row else ""
            if updated and row:
                message = copy.copy(prepared.answer)
                for name, value in fields.items():
                    setattr(message, name, value)
    finally:
        answer_slot_release(account_id=account.id, user_id=prepared.user.pk, answer_id=answer_id)
    if message is not None and outcome.status != Message.Status.ERROR and outcome.text:
        turn = [("user", prepared.question), ("assistant", outcome.text)]
        context.history_remember(account.id, prepared.session_id, answer_id, [*prepared.prompt.history, *turn])
    return Finished(message=message, title=title)


def hold_close(account: Account, reservation_id, outcome: Outcome, entry: ModelEntry, user, answer_id) -> Decimal:
    """Credits the answer cost, with its hold closed. The caller holds the tenant context.

    The ledger is the truth, not what the stream object reports: the gateway
    settles the hold with the price of what was generated (also when stopped) and
    settles a failed call at zero. A hold still open means the gateway never got
    to record the call (cancelled before it started, or a crash): it is settled
    at the price of the text that exists, or released when there is none. Text
    delivered before a provider error is charged on top (`extra_charge`).
    """
    credits = Decimal("0")
    if reservation_id is not None:
        hold = Reservation.objects.select_related("transaction").filter(account=account, pk=reservation_id).first()
        if hold is not None and hold.status == Reservation.Status.SETTLED and hold.transaction is not None:
            credits = -hold.transaction.amount
        elif hold is not None and hold.status == Reservation.Status.HELD:
            price = credits_for(entry, outcome.tokens_in, outcome.tokens_out) if outcome.text else Decimal("0")
            if price > 0:
                tx = reservation_settle(account=account, reservation_id=reservation_id, actual=price,
                                        description=f"{entry.name} ({FEATURE}, closed by chats)")  # fmt: skip
                credits = -tx.amount if tx is not None else Decimal("0")
            else:
                reservation_release(account=account, reservation_id=reservation_id)
    if outcome.extra_charge > 0:
        delivered = _charge_delivered(account, user, entry, answer_id, outcome.extra_charge)
        # Usage counts what the ledger charged: the failed call's record (metered at 0
        # by the gateway) and its aggregates carry the delivered part, in this transaction.
        usage_charge_add(account=account, record_id=outcome.usage_record_id, credits=delivered)
        credits += delivered
    return credits


def _charge_delivered(account: Account, user, entry: ModelEntry, answer_id, price: Decimal) -> Decimal:
    """A provider failed mid-answer: the gateway charges no failed call, but the
    user has the part that was delivered, so that part is charged here."""
    try:
        wallet_debit(
            account=account, amount=price, type=CreditTransaction.Type.CHAT_BURN, actor=user,
            reference=Reference(REFERENCE_TYPE, str(answer_id)),
            description=f"{entry.name}: part of an answer delivered before a provider error",
        )  # fmt: skip
    except InsufficientCredits:
        log.warning("answer %s: could not charge %s delivered before an error", answer_id, price)
        return Decimal("0")
    return price
