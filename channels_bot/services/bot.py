"""The bot's answer to one customer message: the order flow, or the AI.

`bot_answer` (run by the `answer_message` task) works in short
`account_context` blocks and holds no transaction while the model answers:

1. load the message; return quietly when it is gone, already answered, its
   channel is paused, or a human handles the conversation;
2. the order flow (`ordering.order_flow_answer`): with the conversation row
   locked, the new basket state, a created order and the reply commit together;
3. otherwise the AI answer: the channel's persona (a neutral shop assistant
   without one), its knowledge (`personas.passages.persona_passages`)
   and the catalog's matches (`product_search`) in the system text; the plan's
   generation limit checked, the answer's credits held (billing reservation),
   the model called through the gateway (`feature="channel_bot"`, which settles
   the hold), the reply stored with what it cost.

Exactly once, whatever is retried or runs twice:
- one answer per customer message (`channels_bot_msg_one_answer`): a second
  run finds the answer, or loses the insert (IntegrityError) and stops;
- the hold's idempotency key is derived from the message id
  (`channels_bot:answer:<message>:<n>`), so a run after a crash between charge
  and store finds the settled hold and regenerates the answer without charging
  again (`charged=0`); an attempt that ended uncharged (a provider error
  released its hold) moves on to the next `n`.

Failures: no credits, the AI shut-off or the plan's generation limit -> the
polite "a member of our team will reply" (never charged), the conversation
flagged for a human, and at most one email an hour per account to its owners
and admins. A provider error -> `BotAnswerRetry` while the task has retries
left (nothing was stored or charged), then the polite message and the flag.
A closed messaging window -> flagged, no message.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError
from django.utils.translation import gettext_lazy

from accounts.models import Account, Role
from accounts.services.notifications import email_notification, notification_recipients
from accounts.tenancy.context import account_context
from aiplatform.ai import gateway
from aiplatform.ai.errors import ModelUnavailable, ProviderError
from aiplatform.ai.guard import call_guard
from aiplatform.ai.pricing import credits_for
from aiplatform.ai.registry import ModelEntry, model_entry
from aiplatform.errors import Conflict, InsufficientCredits, LimitReached, ServiceError
from billing.models import CreditTransaction, Reservation
from billing.services.controls import AiShutoff
from billing.services.ledger import Reference
from billing.services.limits import generation_check
from billing.services.reservations import reservation_hold, reservation_release
from billing.services.subscriptions import subscription_for
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage, Product
from channels_bot.rich import QUICK_REPLY_TITLE_MAX, Outgoing, QuickReply, clip

from .handoff import conversation_flag_for_human
from .ordering import PRODUCT, order_flow_answer
from .orders import money_text
from .outbound import WindowClosed, outgoing_create
from .products import product_search

log = logging.getLogger("channels_bot.bot")

FEATURE = "channel_bot"
REFERENCE_TYPE = "channel_message"
POLITE_HANDOFF = "Thanks! A member of our team will reply shortly."
GUARDED_ANSWER = "Sorry, I can't share that. How else can I help you?"
NEUTRAL_PROMPT = (
    "You are the friendly shop assistant of this business. Answer the customer's questions about the "
    "business and its products helpfully and honestly. If you do not know something, say that a member "
    "of the team will follow up; never invent prices, stock or policies."
)
PROMPT_BUDGET_TOKENS = 3000  # the prompt tokens the hold prices in (fixed: a retried hold has the same amount)
ANSWER_MAX_TOKENS = 400  # platform messages are short (Messenger: 2,000 characters)
ANSWER_MAX_CHARS = 2000
HISTORY_MESSAGES = 10
CATALOG_HITS = 5
PASSAGES = 3
HOLD_ATTEMPTS = 5
HOLD_TTL = timedelta(minutes=30)
ALERT_EVERY_SECONDS = 3600


class BotAnswerRetry(Exception):
    """The model could not answer now and nothing was stored or charged: try again later."""

    def __init__(self, message: str, *, countdown: float = 30.0) -> None:
        super().__init__(message)
        self.countdown = countdown


@dataclass(frozen=True)
class Turn:
    """One customer message to answer, with what answering it needs."""

    account: Account
    message: ConversationMessage
    conversation: Conversation
    channel: ConnectedChannel


# --- loading and the quick exits -------------------------------------------------------------


def _answered(message: ConversationMessage) -> bool:
    return ConversationMessage.objects.filter(
        reply_to_id=message.pk, sender_type=ConversationMessage.Sender.BOT
    ).exists()


def _skip_reason(message: ConversationMessage, conversation: Conversation) -> str:
    if message.sender_type != ConversationMessage.Sender.CUSTOMER:
        return "not a customer message"
    if not conversation.channel.is_active:
        return "channel paused"
    if conversation.handler == Conversation.Handler.HUMAN:
        return "a human handles this conversation"
    if conversation.status == Conversation.Status.ARCHIVED:
        return "conversation archived"
    if _answered(message):
        return "already answered"
    return ""


def _load(account_id, message_id) -> Turn | None:
    try:
        key = uuid.UUID(str(message_id))
    except ValueError:
        return None
    with account_context(account_id):
        message = (
            ConversationMessage.objects.select_related(
                "account", "conversation__channel__persona", "conversation__customer", "conversation__account"
            )
            .filter(pk=key, account_id=account_id)
            .first()
        )
        if message is None:
            return None
        conversation = message.conversation
        reason = _skip_reason(message, conversation)
    if reason:
        log.info("message %s not answered: %s", message_id, reason)
        return None
    return Turn(account=message.account, message=message, conversation=conversation, channel=conversation.channel)


def _locked_conversation(turn: Turn) -> Conversation | None:
    """The conversation row, locked, when the message still needs the bot's answer."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "customer", "account")
        .filter(pk=turn.conversation.pk)
        .first()
    )
    if conversation is None or _skip_reason(turn.message, conversation):
        return None
    return conversation


# --- the order flow --------------------------------------------------------------------------


_NOT_ORDERING = object()


def _order_step(turn: Turn) -> Any:
    """The order flow's reply (stored), None when nothing is to be sent, or _NOT_ORDERING."""
    try:
        with account_context(turn.account.id):
            conversation = _locked_conversation(turn)
            if conversation is None:
                return None
            outgoing = order_flow_answer(conversation=conversation, message=turn.message)
            if outgoing is None:
                return _NOT_ORDERING
            return outgoing_create(
                conversation=conversation, outgoing=outgoing, sender_type=ConversationMessage.Sender.BOT,
                reply_to=turn.message,
            )  # fmt: skip
    except IntegrityError:  # a concurrent run answered first; everything of this one rolled back
        return None
    except WindowClosed:
        conversation_flag_for_human(conversation=turn.conversation, reason="window closed before the bot answered")
        return None


# --- failures: the polite hand-over ----------------------------------------------------------


def _alert_admins(account: Account, reason: str) -> None:
    """Email the owners and admins, at most once an hour per account (a Redis key with the tenant)."""
    if not cache.add(f"aip:channels_bot:handoff_alert:{account.pk}", reason, timeout=ALERT_EVERY_SECONDS):
        return
    email_notification(
        notification_recipients(account, [Role.OWNER, Role.ADMIN]),
        subject=gettext_lazy("Your channel bot handed customers to your team"),
        template="channels_bot/email/handoff_alert.txt",
        context={"account": account.name, "reason": reason},
    )


def _hand_over(turn: Turn, *, reason: str, alert: bool) -> ConversationMessage | None:
    """The polite "a member of our team will reply" (uncharged) and the needs-a-human flag, once."""
    try:
        with account_context(turn.account.id):
            conversation = _locked_conversation(turn)
            if conversation is None:
                return None
            message = outgoing_create(
                conversation=conversation, outgoing=Outgoing(text=POLITE_HANDOFF),
                sender_type=ConversationMessage.Sender.BOT, reply_to=turn.message,
            )  # fmt: skip
            conversation_flag_for_human(conversation=conversation, reason=reason)
    except IntegrityError:
        return None
    except WindowClosed:
        message = None
        conversation_flag_for_human(conversation=turn.conversation, reason=f"{reason}; window closed")
    if alert:
        _alert_admins(turn.account, reason)
    return message


# --- the AI answer ---------------------------------------------------------------------------


def _persona(turn: Turn):
    persona = turn.channel.persona
    if persona is None:
        return None
    if persona.account_id not in (None, turn.account.pk) or (persona.account_id is None and not persona.is_public):
        return None
    return persona


def _model_name(persona) -> str:
    config = (persona.model_config or {}) if persona is not None else {}
    return settings.CHANNELS_BOT_MODEL or config.get("model") or settings.AI_DEFAULT_CHAT_MODEL


@dataclass(frozen=True)
class Hold:
    """How this answer is paid: a held reservation, already paid by an earlier run, or free."""

    reservation_id: uuid.UUID | None = None
    paid: Decimal | None = None  # an earlier run's settled charge: regenerate without charging


def _hold(turn: Turn, entry: ModelEntry) -> Hold:
    estimate = credits_for(entry, PROMPT_BUDGET_TOKENS, ANSWER_MAX_TOKENS)
    if estimate <= 0:
        return Hold()
    reference = Reference(REFERENCE_TYPE, str(turn.message.pk))
    for attempt in range(HOLD_ATTEMPTS):
        reservation = reservation_hold(
            account=turn.account, amount=estimate, reference=reference, ttl=HOLD_TTL,
            idempotency_key=f"channels_bot:answer:{turn.message.pk}:{attempt}",
        )  # fmt: skip
        if reservation.status == Reservation.Status.HELD:
            return Hold(reservation_id=reservation.pk)
        if reservation.status == Reservation.Status.SETTLED and reservation.transaction_id is not None:
            with account_context(turn.account.id):
                amount = CreditTransaction.objects.values_list("amount", flat=True).get(pk=reservation.transaction_id)
            return Hold(paid=-amount)
        # This attempt ended uncharged (a provider error, the expiry sweep): the next key.
    raise BotAnswerRetry("Too many attempts to answer this message.")


def _release(account: Account, hold: Hold) -> None:
    if hold.reservation_id is None:
        return
    try:
        reservation_release(account=account, reservation_id=hold.reservation_id)
    except Conflict:
        pass  # settled or released already (the gateway, or the sweep)


def _history(turn: Turn) -> list[dict[str, str]]:
    with account_context(turn.account.id):
        rows = list(
            ConversationMessage.objects.filter(conversation=turn.conversation, timestamp__lt=turn.message.timestamp)
            .exclude(pk=turn.message.pk)
            .order_by("-timestamp", "-id")
            .values_list("sender_type", "content")[:HISTORY_MESSAGES]
        )
    turns = []
    for sender, content in reversed(rows):
        if content.strip():
            role = "user" if sender == ConversationMessage.Sender.CUSTOMER else "assistant"
            turns.append({"role": role, "content": content[:1000]})
    return turns


def _passages(turn: Turn, persona, query: str) -> list[str]:
    if persona is None or not query.strip():
        return []
    from personas.passages import persona_passages

    try:
        with account_context(turn.account.id):
            found = persona_passages(account=turn.account, persona=persona, query=query, limit=PASSAGES)
    except ServiceError as exc:
        log.info("no passages for channel %s: %s", turn.channel.pk, exc.message)
        return []
    except Exception:  # knowledge is an enhancement: never lose the answer over it
        log.exception("retrieval failed for channel %s", turn.channel.pk)
        return []
    return [hit.text for hit in found]


def _catalog_hits(turn: Turn, query: str) -> list[Product]:
    try:
        return product_search(account=turn.account, query=query, limit=CATALOG_HITS)
    except Exception:
        log.exception("catalog search failed for account %s", turn.account.pk)
        return []


def system_text(*, persona_prompt: str, channel: ConnectedChannel, passages: list[str], products: list[Product]) -> str:
    """The system message: persona, channel rules, knowledge, and the catalog's matches."""
    parts = [(persona_prompt or NEUTRAL_PROMPT).strip()]
    parts.append(
        f"You are answering customers of “{channel.channel_name}” on {channel.get_platform_type_display()}. "
        "Write short plain-text messages (a few sentences, no markdown). To order, the customer can write "
        "“order”, and the order steps will guide them."
    )
    if passages:
        known = "\n".join(f"[{n}] {p}" for n, p in enumerate(passages, 1))
        parts.append("What the business knows (use it when relevant):\n" + known)
    if products:
        lines = []
        for p in products:
            detail = f": {clip(p.description, 120)}" if p.description else ""
            lines.append(f"- {p.name} — {money_text(p.price, p.currency)}{detail}")
        parts.append("Products in the catalog matching the customer's message (quote only these prices):\n"
                     + "\n".join(lines))  # fmt: skip
    else:
        parts.append("No product in the catalog matches this message; do not invent products or prices.")
    return "\n\n".join(parts)


def _reply_of(text: str, products: list[Product]) -> Outgoing:
    replies = tuple(QuickReply(title=clip(p.name, QUICK_REPLY_TITLE_MAX), payload=f"{PRODUCT}{p.pk}") for p in products)
    return Outgoing(text=clip(text, ANSWER_MAX_CHARS), quick_replies=replies)


def _subscription(account: Account) -> None:
    """A new account starts on the free plan, whose limits then apply (two first answers
    at once: one creates it, the other reads it)."""
    try:
        subscription_for(account)
    except IntegrityError:
        subscription_for(account)


def _ai_answer(turn: Turn, retries_left: int, *, again: bool = False) -> ConversationMessage | None:
    persona = _persona(turn)
    try:
        entry = model_entry(_model_name(persona))
    except ModelUnavailable as exc:
        log.error("channel bot model unavailable for account %s: %s", turn.account.pk, exc.message)
        return _hand_over(turn, reason="the bot's AI model is not available", alert=False)
    try:
        call_guard(account=turn.account)
        _subscription(turn.account)
        with account_context(turn.account.id):
            generation_check(account=turn.account)
        hold = _hold(turn, entry)
    except (InsufficientCredits, AiShutoff, LimitReached) as exc:
        return _hand_over(turn, reason=exc.code, alert=True)
    except Conflict as exc:  # e.g. the idempotency record of an older, different estimate
        log.warning("hold for message %s refused: %s", turn.message.pk, exc.message)
        return _hand_over(turn, reason="the answer could not be paid for", alert=False)

    with account_context(turn.account.id):
        done = _answered(turn.message)
    if done:  # a concurrent run answered while this one held credits
        _release(turn.account, hold)
        return None

    question = turn.message.content or ""
    products = _catalog_hits(turn, question)
    passages = _passages(turn, persona, question)
    system_prompt = persona.system_prompt if persona is not None else ""
    messages = [
        {"role": "system", "content": system_text(
            persona_prompt=system_prompt, channel=turn.channel, passages=passages, products=products)},
        *_history(turn),
        {"role": "user", "content": question[:4000] or "(the customer sent an attachment)"},
    ]  # fmt: skip
    paying = {"reservation": hold.reservation_id} if hold.reservation_id else {}
    if hold.paid is not None:
        paying = {"charged": Decimal("0")}  # paid by the run that crashed before storing its answer
    try:
        completion = gateway.complete(
            account=turn.account, model=entry.name, messages=messages, feature=FEATURE,
            max_tokens=min(ANSWER_MAX_TOKENS, entry.max_output_tokens),
            reference=Reference(REFERENCE_TYPE, str(turn.message.pk)), **paying,
        )  # fmt: skip
    except (ProviderError, ModelUnavailable) as exc:
        _release(turn.account, hold)  # the gateway releases on a provider error; a refused call left it held
        if retries_left > 0 and hold.paid is None:
            raise BotAnswerRetry(exc.message) from exc
        return _hand_over(turn, reason=f"the AI provider failed: {exc.code}", alert=False)
    except (InsufficientCredits, AiShutoff, LimitReached) as exc:
        _release(turn.account, hold)
        return _hand_over(turn, reason=exc.code, alert=True)
    except Conflict as exc:
        if exc.code == "reservation_closed" and not again:
            # Another run settled this message's hold first: it answers, or (if it died) this run does, unpaid.
            return _ai_answer(turn, retries_left, again=True)
        raise
    charged = hold.paid if hold.paid is not None else completion.credits
    text = completion.text.strip() or POLITE_HANDOFF
    if system_prompt:
        from personas.guard import guard_output

        if guard_output(system_prompt, text).blocked:
            log.warning("channel bot answer withheld by the output guard (message %s)", turn.message.pk)
            text = GUARDED_ANSWER
    return _store_answer(turn, _reply_of(text, products), charged)


def _store_answer(turn: Turn, outgoing: Outgoing, charged: Decimal) -> ConversationMessage | None:
    try:
        with account_context(turn.account.id):
            conversation = _locked_conversation(turn)
            if conversation is None:  # answered meanwhile, or a human took over while the model wrote
                return None
            return outgoing_create(
                conversation=conversation, outgoing=outgoing, sender_type=ConversationMessage.Sender.BOT,
                reply_to=turn.message, credits=charged,
            )  # fmt: skip
    except IntegrityError:
        return None
    except WindowClosed:
        conversation_flag_for_human(conversation=turn.conversation, reason="window closed while the bot answered")
        return None


# --- the entry point -------------------------------------------------------------------------


def bot_answer(*, account_id, message_id, retries_left: int = 0) -> ConversationMessage | None:
    """Answer one stored customer message; the stored reply, or None when there is
    nothing (more) to send. Idempotent. `retries_left` > 0 lets a provider error
    raise `BotAnswerRetry` (nothing stored or charged) instead of handing over."""
    turn = _load(account_id, message_id)
    if turn is None:
        return None
    result = _order_step(turn)
    if result is not _NOT_ORDERING:
        return result
    return _ai_answer(turn, retries_left)
