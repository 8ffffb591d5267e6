"""A stored webhook delivery -> customers, conversations, messages.

`delivery_process` claims one `WebhookDelivery` (row lock, skip if another
worker holds it), parses it (`webhooks/parse_<vendor>.py`), finds each event's
channel by (`platform_type`, `platform_specific_id`) under a named
`rls_bypass`, and does everything else inside `account_context(channel.account_id)`:
the tenant always comes from the stored channel, never from the payload. One
transaction per delivery, one savepoint per event (an odd event is recorded
as failed without undoing the others); a killed worker rolls back and the
sweep (`tasks.inbound.deliveries_sweep`) runs the delivery again.

Exactly once: a customer message is unique per (channel, platform message id)
(`channels_bot_msg_platform_once`); a redelivery finds the row and does
nothing, and a concurrent insert of the same id is a no-op (`ON CONFLICT DO
NOTHING`) whose event rolls back. Only a new customer message publishes
`conversation.message` and enqueues the bot's answer (after commit, when the
channel is active and the bot handles the conversation).

Echoes: our own send (Meta `app_id` == META_APP_ID, or a platform id we
stored, or a message of ours still being sent with the same text) marks that
message sent and stores nothing new; any other echo is a human replying from
the platform's own inbox: stored as an AGENT message, and the conversation is
handed to humans (`conversation_take_over(via="platform_inbox")`).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.events import publish_on_commit
from accounts.tenancy.context import account_context, rls_bypass
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage, Customer, WebhookDelivery
from channels_bot.models.platforms import Platform, WebhookSource
from channels_bot.webhooks.events import InboundEvent, Kind
from channels_bot.webhooks.parse_linkedin import ORGANIZATION_URN, parse_linkedin
from channels_bot.webhooks.parse_meta import parse_meta
from channels_bot.webhooks.parse_x import parse_x

from .customers import customer_touch
from .handoff import VIA_PLATFORM_INBOX, conversation_take_over

log = logging.getLogger("channels_bot.inbound")

MAX_ATTEMPTS = 5  # a delivery whose processing kills its worker this often is marked failed
PREVIEW_CHARS = 140
RESULT_MAX_CHARS = 4000

PARSERS = {WebhookSource.META: parse_meta, WebhookSource.X: parse_x, WebhookSource.LINKEDIN: parse_linkedin}
META_PLATFORMS = (Platform.FACEBOOK_PAGE, Platform.INSTAGRAM_BUSINESS)
CUSTOMER_KINDS = (Kind.MESSAGE, Kind.POSTBACK, Kind.COMMENT)
OURS = (ConversationMessage.Sender.BOT, ConversationMessage.Sender.AGENT)
ATTACHMENT_TYPES = {
    "image": "IMAGE", "sticker": "IMAGE", "photo": "IMAGE",
    "video": "VIDEO", "reel": "VIDEO", "ig_reel": "VIDEO", "animated_gif": "VIDEO",
    "audio": "AUDIO",
}  # fmt: skip
D = ConversationMessage.Delivery
# A receipt moves a message forward only: from these states to DELIVERED / READ.
RECEIPT_FROM = {D.DELIVERED: [D.SENT], D.READ: [D.SENT, D.DELIVERED]}
NAMED_RECEIPT_FROM = {D.DELIVERED: [D.PENDING, D.SENT], D.READ: [D.PENDING, D.SENT, D.DELIVERED]}


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    result: str


@dataclass
class _Report:
    """What processing did, per channel, for `WebhookDelivery.result`."""

    sections: dict[str, Counter] = field(default_factory=dict)
    handled: int = 0
    ignored: int = 0
    failed: int = 0

    def add(self, section: str, what: str, n: int = 1) -> None:
        self.sections.setdefault(section, Counter())[what] += n

    def text(self) -> str:
        parts = [f"{name}: " + ", ".join(f"{n} {what}" for what, n in counts.items())
                 for name, counts in self.sections.items()]  # fmt: skip
        return ("; ".join(parts) or "no events")[:RESULT_MAX_CHARS]


class _Unparseable(Exception):
    pass


# --- the delivery ---------------------------------------------------------------------------


def delivery_process(*, delivery_id: str, force: bool = False) -> DeliveryOutcome | None:
    """Process one stored delivery; None when it is gone, already processed (unless
    `force`: the admin's re-process) or being processed by another worker."""
    with rls_bypass("webhook: count a processing attempt"):
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.RECEIVED).update(
            attempts=F("attempts") + 1
        )
    with transaction.atomic():
        with rls_bypass("webhook: claim a stored delivery"):
            claimed = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id)
            delivery = (claimed if force else claimed.filter(status=WebhookDelivery.Status.RECEIVED)).first()
        if delivery is None:
            return None
        if not force and delivery.attempts > MAX_ATTEMPTS:
            return _finish(delivery, WebhookDelivery.Status.FAILED, f"gave up after {MAX_ATTEMPTS} attempts", [])
        try:
            events = _parse(delivery)
        except _Unparseable as exc:
            return _finish(delivery, WebhookDelivery.Status.FAILED, str(exc), [])
        report = _Report()
        channels = _process(events, report)
        if report.failed:
            status = WebhookDelivery.Status.FAILED
        elif report.handled:
            status = WebhookDelivery.Status.PROCESSED
        else:
            status = WebhookDelivery.Status.IGNORED
        return _finish(delivery, status, report.text(), channels)


def delivery_reprocess(*, delivery: WebhookDelivery) -> DeliveryOutcome | None:
    """The admin's "re-process": run a delivery again whatever its status
    (everything it already did is found and not done twice)."""
    return delivery_process(delivery_id=str(delivery.pk), force=True)


def _parse(delivery: WebhookDelivery) -> list[InboundEvent]:
    try:
        data = json.loads(bytes(delivery.body))
    except (ValueError, RecursionError) as exc:
        raise _Unparseable(f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _Unparseable("the body is not a JSON object")
    parser = PARSERS.get(delivery.source)
    if parser is None:
        raise _Unparseable(f"no parser for source {delivery.source!r}")
    try:
        return parser(data)
    except Exception as exc:  # a parser bug must not leave the delivery looping through the sweep
        log.exception("delivery %s could not be parsed", delivery.pk)
        raise _Unparseable(f"the payload could not be read: {exc!r}") from exc


def _finish(delivery: WebhookDelivery, status: str, result: str, channels: list[ConnectedChannel]):
    accounts = {c.account_id for c in channels}
    delivery.status, delivery.result, delivery.processed_at = status, result, timezone.now()
    # One channel (the usual case) names it; several of one account name the account.
    delivery.channel = channels[0] if len(channels) == 1 else None
    delivery.account_id = next(iter(accounts)) if len(accounts) == 1 else None
    with rls_bypass("webhook: record the processing result"):
        delivery.save(update_fields=["status", "result", "processed_at", "channel", "account"])
    return DeliveryOutcome(status=status, result=result)


def _channels_for(events: list[InboundEvent]) -> dict[tuple[str, str], ConnectedChannel]:
    keys = {(e.platform, e.channel_platform_id) for e in events if e.channel_platform_id}
    if not keys:
        return {}
    query = Q()
    for platform, platform_id in keys:
        ids = [platform_id]
        if platform == Platform.LINKEDIN_PAGE:
            ids.append(ORGANIZATION_URN + platform_id)  # stored either as the id or as the URN
        query |= Q(platform_type=platform, platform_specific_id__in=ids)
    with rls_bypass("webhook: find the channels a delivery is for"):
        found = list(ConnectedChannel.objects.filter(query))
    by_key = {}
    for channel in found:
        platform_id = channel.platform_specific_id
        if channel.platform_type == Platform.LINKEDIN_PAGE and platform_id.startswith(ORGANIZATION_URN):
            platform_id = platform_id[len(ORGANIZATION_URN) :]
        by_key[(channel.platform_type, platform_id)] = channel
    return by_key


def _process(events: list[InboundEvent], report: _Report) -> list[ConnectedChannel]:
    groups: dict[tuple[str, str], list[InboundEvent]] = {}
    for event in events:
        groups.setdefault((event.platform, event.channel_platform_id), []).append(event)
    channels = _channels_for(events)
    seen: list[ConnectedChannel] = []
    for (platform, platform_id), group in groups.items():
        channel = channels.get((platform, platform_id))
        if channel is None:
            report.add(f"unknown channel {platform} {platform_id or '(none)'}", "events ignored", len(group))
            report.ignored += len(group)
            continue
        seen.append(channel)
        section = f"{platform} {platform_id}"
        with account_context(channel.account_id):
            if not channel.is_active:
                report.add(f"{section} (paused channel)", "events ignored", len(group))
                report.ignored += len(group)
            else:
                for event in group:
                    try:
                        with transaction.atomic():
                            _event(event, channel, section, report)
                        report.handled += 1
                    except Exception as exc:
                        log.exception("inbound event on channel %s failed", channel.pk)
                        report.add(section, f"failed ({type(exc).__name__}: {str(exc)[:120]})")
                        report.failed += 1
            # Last, so the channel row is locked only for the end of the transaction.
            ConnectedChannel.objects.filter(pk=channel.pk).update(last_webhook_at=timezone.now())
    return seen


def _event(event: InboundEvent, channel: ConnectedChannel, section: str, report: _Report) -> None:
    if event.kind in CUSTOMER_KINDS:
        _customer_message(event, channel, section, report)
    elif event.kind == Kind.ECHO:
        _echo(event, channel, section, report)
    elif event.kind in (Kind.DELIVERY, Kind.READ):
        _receipt(event, channel, section, report)
    elif event.kind == Kind.HANDOVER:
        _handover(event, channel, section, report)
    else:
        report.add(section, f"unsupported ({event.action or 'unknown'})")


# --- customer messages ----------------------------------------------------------------------


def _moment(event: InboundEvent) -> datetime:
    now = timezone.now()
    return min(event.timestamp, now) if event.timestamp else now


def _content(event: InboundEvent) -> tuple[str, str, dict]:
    """(content_type, content, payload) of a customer's message."""
    payload: dict = {}
    if event.kind == Kind.POSTBACK:
        payload["postback"] = event.payload
    elif event.payload:
        payload["quick_reply"] = event.payload
    if event.kind == Kind.COMMENT:
        payload.update(reply_target=event.reply_target, source_post=event.source_post, action=event.action)
    if event.standby:
        payload["standby"] = True
    content_type = ConversationMessage.ContentType.TEXT
    content = event.text
    if event.attachments:
        payload["attachments"] = [{"type": a.type, "url": a.url} for a in event.attachments]
        if not event.text:
            content_type = ATTACHMENT_TYPES.get(event.attachments[0].type, "FILE")
            content = f"[{event.attachments[0].type}]"
    return content_type, content, payload


def _conversation_for(customer: Customer, channel: ConnectedChannel, at: datetime) -> tuple[Conversation, bool]:
    """The customer's open conversation: a closed one reopens (for the bot), an
    archived one (or none) starts a new one. The caller holds the customer's lock."""
    latest = Conversation.objects.filter(customer=customer).order_by("-started_at", "-id").first()
    if latest is not None and latest.status == Conversation.Status.OPEN:
        return latest, False
    if latest is not None and latest.status != Conversation.Status.ARCHIVED:
        changes = {"status": Conversation.Status.OPEN, "handler": Conversation.Handler.BOT, "needs_human": False,
                   "assigned_to": None}  # fmt: skip
        for name, value in changes.items():
            setattr(latest, name, value)
        latest.save(update_fields=list(changes))
        publish_on_commit(channel.account_id, "conversation.updated",
                          {"id": str(latest.pk), "status": latest.status, "handler": latest.handler})  # fmt: skip
        return latest, False
    created = Conversation.objects.create(
        account_id=channel.account_id, customer=customer, channel=channel, started_at=at, last_message_at=at
    )
    return created, True


def _known(channel: ConnectedChannel, platform_message_id: str) -> bool:
    return ConversationMessage.objects.filter(channel=channel, platform_message_id=platform_message_id).exists()


def _insert_once(message: ConversationMessage) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call stored the row."""
    ConversationMessage.objects.bulk_create([message], ignore_conflicts=True)
    return ConversationMessage.objects.filter(pk=message.pk).exists()


def _publish_message(message: ConversationMessage, conversation: Conversation, new_conversation: bool) -> None:
    publish_on_commit(message.account_id, "conversation.message", {
        "conversation": str(conversation.pk), "message": str(message.pk), "customer": str(conversation.customer_id),
        "channel": str(message.channel_id), "sender": message.sender_type, "content_type": message.content_type,
        "preview": message.content[:PREVIEW_CHARS], "new_conversation": new_conversation,
    })  # fmt: skip


def _customer_message(event: InboundEvent, channel: ConnectedChannel, section: str, report: _Report) -> None:
    if not event.event_id or not event.customer_platform_id:
        report.add(section, "events without a message or customer id ignored")
        return
    if _known(channel, event.event_id):
        report.add(section, "duplicates")
        return
    at = _moment(event)
    touched = customer_touch(
        channel=channel, platform_customer_id=event.customer_platform_id, seen_at=at,
        full_name=event.customer_name, picture_url=event.customer_picture_url,
    )  # fmt: skip
    conversation, new_conversation = _conversation_for(touched.customer, channel, at)
    content_type, content, payload = _content(event)
    message = ConversationMessage(
        account_id=channel.account_id, conversation=conversation, channel=channel,
        sender_type=ConversationMessage.Sender.CUSTOMER, content_type=content_type, content=content, payload=payload,
        timestamp=at, platform_message_id=event.event_id, delivery_state=D.RECEIVED,
    )  # fmt: skip
    if not _insert_once(message):
        # Stored meanwhile by a concurrent delivery of the same event: undo this event's changes.
        transaction.set_rollback(True)
        report.add(section, "duplicates")
        return
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=Greatest(F("last_message_at"), at),
        last_customer_message_at=Greatest(Coalesce(F("last_customer_message_at"), at), at),
        unread_count=F("unread_count") + 1,
    )
    _publish_message(message, conversation, new_conversation)
    account_id, message_id = str(channel.account_id), str(message.pk)
    answers = channel.is_active and not event.standby and conversation.handler == Conversation.Handler.BOT
    if answers:
        from channels_bot.tasks.bot import answer_message

        transaction.on_commit(partial(answer_message.delay, account_id=account_id, message_id=message_id), robust=True)
    if touched.created and touched.wants_profile:
        from channels_bot.tasks.inbound import customer_profile_fetch

        customer_id = str(touched.customer.pk)
        transaction.on_commit(
            partial(customer_profile_fetch.delay, account_id=account_id, customer_id=customer_id), robust=True
        )
    report.add(section, "new messages" if answers else "new messages (bot not answering)")


# --- echoes ---------------------------------------------------------------------------------


def _advance(queryset, state: str, allowed: list[str]) -> int:
    return queryset.filter(delivery_state__in=allowed).update(delivery_state=state)


def _our_pending_send(channel: ConnectedChannel, customer_platform_id: str, text: str):
    """A message of ours to this customer, still being sent, with this text (its
    echo can arrive before the send recorded the platform's id)."""
    if not text or not customer_platform_id:
        return None
    window = timezone.now() - timedelta(minutes=10)
    return (
        ConversationMessage.objects.filter(
            channel=channel, conversation__customer__platform_customer_id=customer_platform_id, sender_type__in=OURS,
            delivery_state__in=[D.PENDING, D.FAILED], platform_message_id="", content=text, timestamp__gte=window,
        )
        .order_by("timestamp")
        .first()
    )  # fmt: skip


def _echo(event: InboundEvent, channel: ConnectedChannel, section: str, report: _Report) -> None:
    ids = [i for i in (event.event_id, event.reply_target) if i]
    stored = ConversationMessage.objects.filter(channel=channel, platform_message_id__in=ids).first() if ids else None
    if stored is not None:
        if stored.sender_type in OURS:
            _advance(ConversationMessage.objects.filter(pk=stored.pk), D.SENT, [D.PENDING, D.FAILED])
            report.add(section, "echoes of our sends")
        else:
            report.add(section, "duplicates")
        return
    ours = event.platform in META_PLATFORMS and bool(settings.META_APP_ID) and event.app_id == str(settings.META_APP_ID)
    pending = _our_pending_send(channel, event.customer_platform_id, event.text)
    if pending is not None and (ours or event.platform not in META_PLATFORMS or not settings.META_APP_ID):
        values = {"delivery_state": D.SENT, **({"platform_message_id": event.event_id} if event.event_id else {})}
        ConversationMessage.objects.filter(pk=pending.pk, platform_message_id="").update(**values)
        ours = True
    if ours:
        report.add(section, "echoes of our sends")
        return
    if not event.customer_platform_id or not event.event_id:
        report.add(section, f"page posts not sent by us ({event.action or 'echo'}) recorded")
        return
    _human_reply(event, channel, section, report)


def _human_reply(event: InboundEvent, channel: ConnectedChannel, section: str, report: _Report) -> None:
    """Someone answered from the platform's own inbox: keep their message, and the bot steps back."""
    at = _moment(event)
    touched = customer_touch(channel=channel, platform_customer_id=event.customer_platform_id, seen_at=at, active=False)
    conversation, new_conversation = _conversation_for(touched.customer, channel, at)
    content_type, content, payload = _content(event)
    payload.update(via=VIA_PLATFORM_INBOX, app_id=event.app_id)
    message = ConversationMessage(
        account_id=channel.account_id, conversation=conversation, channel=channel,
        sender_type=ConversationMessage.Sender.AGENT, content_type=content_type, content=content, payload=payload,
        timestamp=at, platform_message_id=event.event_id, delivery_state=D.SENT,
    )  # fmt: skip
    if not _insert_once(message):
        transaction.set_rollback(True)
        report.add(section, "duplicates")
        return
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=Greatest(F("last_message_at"), at))
    conversation.refresh_from_db()
    conversation_take_over(conversation=conversation, actor=None, via=VIA_PLATFORM_INBOX)
    _publish_message(message, conversation, new_conversation)
    report.add(section, "replies from the platform inbox (handed to humans)")


# --- receipts and thread control ------------------------------------------------------------


def _receipt(event: InboundEvent, channel: ConnectedChannel, section: str, report: _Report) -> None:
    state = D.DELIVERED if event.kind == Kind.DELIVERY else D.READ
    customer = Customer.objects.filter(channel=channel, platform_customer_id=event.customer_platform_id).first()
    if customer is None:
        report.add(section, "receipts for unknown customers")
        return
    ours = ConversationMessage.objects.filter(channel=channel, conversation__customer=customer, sender_type__in=OURS)
    moved = 0
    if event.message_ids:
        named = ours.filter(platform_message_id__in=event.message_ids)
        moved += _advance(named, state, NAMED_RECEIPT_FROM[state])
    watermark = event.watermark
    if watermark is None and state == D.READ and event.message_ids:
        # Instagram's read names the last message seen: everything before it was seen too.
        latest = ours.filter(platform_message_id__in=event.message_ids).order_by("-timestamp").first()
        watermark = latest.timestamp if latest else None
    if watermark is not None:
        moved += _advance(ours.filter(timestamp__lte=watermark), state, RECEIPT_FROM[state])
    if moved:
        publish_on_commit(channel.account_id, "conversation.receipt",
                          {"customer": str(customer.pk), "state": state, "messages": moved})  # fmt: skip
    report.add(section, f"{state} receipts")


def _handover(event: InboundEvent, channel: ConnectedChannel, section: str, report: _Report) -> None:
    """Messenger thread control changed hands. Another app taking the thread from
    us (a person in the Page Inbox) hands the conversation to humans; the rest is recorded."""
    ours = str(settings.META_APP_ID or "")
    taken_from_us = (
        event.handover_action == "take_thread_control" and bool(ours) and event.previous_owner_app_id == ours
    )
    owner = event.thread_owner_app_id or "?"
    report.add(section, f"handovers ({event.handover_action}, new owner {owner})")
    if not taken_from_us:
        return
    customer = Customer.objects.filter(channel=channel, platform_customer_id=event.customer_platform_id).first()
    conversation = (
        Conversation.objects.filter(customer=customer, status=Conversation.Status.OPEN).order_by("-started_at").first()
        if customer
        else None
    )
    if conversation is not None:
        conversation_take_over(conversation=conversation, actor=None, via=VIA_PLATFORM_INBOX)
        report.add(section, "conversations handed to humans by the handover protocol")
