"""One send of a stored outbound message to its platform, and its outcome.

`message_deliver` runs in the `message_send` task:

1. In a short transaction under the account's context, the message is locked
   and checked: anything but `pending` returns at once (a retried or duplicated
   task never sends twice); `attempts` goes up.
2. A Redis lease per message (released after the outcome is recorded) keeps a
   second copy of the task from sending while the first waits on the platform.
3. The platform client is called with NO transaction open.
4. The outcome is recorded in another short transaction and published as
   `message.updated`:
   - sent: `platform_message_id`, state `sent`;
   - THROTTLED / TRANSIENT: `task.retry(countdown=max(retry_after, backoff*2**n))`
     up to CHANNELS_SEND_MAX_RETRIES, then `failed`;
   - AUTH: the channel is marked "needs reconnecting" (banner and email), `failed`;
   - WINDOW_CLOSED: `failed` with `window_closed`, the conversation flagged for a
     human so the agent sees it;
   - PERMANENT: `failed` with the platform's message, no retry.
   A multi-part message that failed after some parts records how many went
   (`payload.delivery.sent_parts`), so a retry sends only the rest.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from accounts.events import publish_on_commit
from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage
from channels_bot.platforms import client_for
from channels_bot.platforms.base import Failure, PlatformError, SendContext, SendResult
from channels_bot.platforms.http import PartialSendError
from channels_bot.rich import Outgoing

log = logging.getLogger("channels_bot.delivery")

Delivery = ConversationMessage.Delivery
LEASE_SECONDS = 120  # longer than a send can take (a few parts at CHANNELS_HTTP_TIMEOUT each)
_RESERVED_PAYLOAD = ("human_agent_tag", "delivery", "reply_target", "source_post")


def _lease_key(message_id: str) -> str:
    return f"channels:sending:{message_id}"


def _event(message: ConversationMessage) -> None:
    publish_on_commit(message.account_id, "message.updated", {
        "id": str(message.pk), "conversation_id": str(message.conversation_id),
        "delivery_state": message.delivery_state, "platform_message_id": message.platform_message_id,
        "error_code": message.error_code, "error_message": message.error_message, "attempts": message.attempts,
    })  # fmt: skip


def _reply_target(message: ConversationMessage) -> tuple[str, str]:
    """LinkedIn: the comment (and post) the answer attaches to, from the customer
    message it answers, else the conversation's latest customer comment."""
    sources = []
    if message.reply_to_id:
        sources.append(ConversationMessage.objects.filter(pk=message.reply_to_id).values_list("payload", flat=True))
    sources.append(
        ConversationMessage.objects.filter(
            conversation_id=message.conversation_id, sender_type=ConversationMessage.Sender.CUSTOMER
        )
        .order_by("-timestamp", "-id")
        .values_list("payload", flat=True)[:20]
    )
    for query in sources:
        for payload in query:
            payload = payload or {}
            if payload.get("reply_target") or payload.get("source_post"):
                return str(payload.get("reply_target") or ""), str(payload.get("source_post") or "")
    return "", ""


def _claim(account_id: str, message_id: str) -> tuple[ConversationMessage, SendContext] | None:
    with account_context(account_id), transaction.atomic():
        message = (
            ConversationMessage.objects.select_for_update(of=("self",))
            .select_related("channel", "conversation__customer")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.delivery_state != Delivery.PENDING:
            return None
        message.attempts += 1
        message.save(update_fields=["attempts"])
        payload = message.payload or {}
        reply_target, source_post = ("", "")
        if message.channel.platform_type == "LINKEDIN_PAGE":
            reply_target, source_post = _reply_target(message)
        context = SendContext(
            recipient_id=message.conversation.customer.platform_customer_id,
            human_agent_tag=bool(payload.get("human_agent_tag")),
            reply_to_comment=reply_target,
            source_post=source_post,
            skip_parts=int((payload.get("delivery") or {}).get("sent_parts") or 0),
        )
    return message, context


def _outgoing(message: ConversationMessage) -> Outgoing:
    payload = {k: v for k, v in (message.payload or {}).items() if k not in _RESERVED_PAYLOAD}
    rich = any(payload.get(k) for k in ("quick_replies", "cards", "image_url"))
    # `content` of a rich message is its numbered-text fallback, not its text.
    return Outgoing.from_payload(payload.get("text", "" if rich else message.content), payload)


def _record(account_id: str, message: ConversationMessage, **fields: Any) -> ConversationMessage:
    with account_context(account_id), transaction.atomic():
        for name, value in fields.items():
            setattr(message, name, value)
        ConversationMessage.objects.filter(pk=message.pk).update(**fields)
        _event(message)
    return message


def _progress(message: ConversationMessage, exc: PlatformError) -> dict[str, Any]:
    """The payload with the parts already sent (and the first one's id) of a partial send."""
    if not isinstance(exc, PartialSendError):
        return {}
    delivery = dict((message.payload or {}).get("delivery") or {})
    delivery["sent_parts"] = exc.sent_parts
    if exc.platform_message_id and not delivery.get("first_id"):
        delivery["first_id"] = exc.platform_message_id
    return {"payload": {**(message.payload or {}), "delivery": delivery}}


def _countdown(exc: PlatformError, retries: int) -> float:
    return max(exc.retry_after or 0.0, settings.CHANNELS_SEND_RETRY_BACKOFF * 2**retries)


def message_deliver(*, account_id: str, message_id: str, task=None) -> str:
    """Send one pending message; returns its delivery state afterwards (or "skipped")."""
    lease = secrets.token_hex(8)
    if not cache.add(_lease_key(message_id), lease, timeout=LEASE_SECONDS):
        # Another copy of this task is sending it right now: look again once its lease is over
        # (by then it is sent, failed, or waiting for its own retry, and this copy returns).
        log.info("message %s is being sent by another worker", message_id)
        if task is not None:
            raise task.retry(countdown=LEASE_SECONDS, max_retries=None)
        return "skipped"
    try:
        claimed = _claim(account_id, message_id)
        if claimed is None:
            return "skipped"
        message, context = claimed
        return _send(account_id, message, context, task)
    finally:
        if cache.get(_lease_key(message_id)) == lease:
            cache.delete(_lease_key(message_id))


def _send(account_id: str, message: ConversationMessage, context: SendContext, task) -> str:
    channel: ConnectedChannel = message.channel
    if channel.needs_reconnect:
        _record(account_id, message, delivery_state=Delivery.FAILED, error_code="needs_reconnect",
                error_message=f"The channel needs reconnecting: {channel.auth_error}"[:500])  # fmt: skip
        return Delivery.FAILED
    if connection.in_atomic_block:
        log.debug("message %s sent inside a transaction (tests run in one)", message.pk)
    try:
        result: SendResult = client_for(channel).send(channel, _outgoing(message), context)
    except PlatformError as exc:
        return _failed(account_id, message, exc, task)
    first_id = ((message.payload or {}).get("delivery") or {}).get("first_id")
    _record(account_id, message, delivery_state=Delivery.SENT, error_code="", error_message="",
            platform_message_id=(first_id or result.platform_message_id)[:255])  # fmt: skip
    return Delivery.SENT


def _failed(account_id: str, message: ConversationMessage, exc: PlatformError, task) -> str:
    detail = f"{exc.message} (code {exc.code}{'/' + exc.subcode if exc.subcode else ''})" if exc.code else exc.message
    progress = _progress(message, exc)
    if exc.retryable:
        retries = task.request.retries if task is not None else settings.CHANNELS_SEND_MAX_RETRIES
        if retries < settings.CHANNELS_SEND_MAX_RETRIES:
            countdown = _countdown(exc, retries)
            _record(account_id, message, error_code=exc.failure.value, error_message=detail[:500], **progress)
            log.info("message %s: %s, retry %s in %.0f s", message.pk, exc.failure, retries + 1, countdown)
            raise task.retry(countdown=countdown, max_retries=settings.CHANNELS_SEND_MAX_RETRIES)
        _record(account_id, message, delivery_state=Delivery.FAILED, error_code=exc.failure.value,
                error_message=f"Gave up after {message.attempts} attempts: {detail}"[:500], **progress)  # fmt: skip
        return Delivery.FAILED
    if exc.failure == Failure.AUTH:
        from channels_bot.services.connect import channel_mark_needs_reconnect

        channel_mark_needs_reconnect(message.channel, exc.message)
    _record(account_id, message, delivery_state=Delivery.FAILED, error_code=exc.failure.value,
            error_message=detail[:500], **progress)  # fmt: skip
    if exc.failure == Failure.WINDOW_CLOSED:
        from channels_bot.services.handoff import conversation_flag_for_human

        with account_context(account_id):
            conversation = Conversation.objects.get(pk=message.conversation_id)
        conversation_flag_for_human(conversation=conversation, reason=f"message {message.pk} not delivered: {detail}")
    log.warning("message %s failed (%s): %s", message.pk, exc.failure, detail)
    return Delivery.FAILED
