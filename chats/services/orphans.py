"""The sweep of answers left `streaming` by a process that went away (a deploy,
a crash, a killed worker): Celery beat runs `orphans_close` every minute.

An answer is an orphan when it is older than CHAT_ORPHAN_AFTER_SECONDS and its
process has not written its snapshot (`beat`, about once a second) for that
long. It is closed as `error` / `interrupted` with the text of its last snapshot
(what the user had seen, give or take a second), charged for that text at the
model's price (the hold is settled; with no text it is released), metered with
one usage record, and its answer slot is freed.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.ai.models import AiModel
from aiplatform.ai.pricing import estimate_tokens
from aiplatform.ai.registry import ModelEntry
from billing.services.ledger import Reference
from billing.services.usage import usage_record

from ..models import Message
from . import streaming
from .messages import FEATURE, REFERENCE_TYPE, Outcome, hold_close
from .ratelimits import answer_slot_release, redis_client

log = logging.getLogger("chats.orphans")

INTERRUPTED = "The answer was interrupted (the server restarted). What was written is kept."


def _alive(live: dict[bytes, bytes], now: float) -> bool:
    beat = live.get(b"beat")
    return beat is not None and now - float(beat) < settings.CHAT_ORPHAN_AFTER_SECONDS


def orphans_close() -> int:
    """Close every orphaned answer; returns how many were closed."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_ORPHAN_AFTER_SECONDS)
    with rls_bypass("chats: sweep of answers left streaming, across accounts"):
        candidates = list(
            Message.objects.filter(status=Message.Status.STREAMING, created_at__lt=cutoff).values_list(
                "account_id", "pk", "session__user_id"
            )
        )
    if not candidates:
        return 0
    client = redis_client()
    pipe = client.pipeline(transaction=False)
    for _, message_id, _ in candidates:
        pipe.hgetall(streaming.live_key(message_id))
    lives = pipe.execute()
    now, closed = time.time(), 0
    for (account_id, message_id, user_id), live in zip(candidates, lives, strict=True):
        if _alive(live, now):
            continue
        text = live.get(b"text", b"").decode()
        prompt_tokens = int(live.get(b"prompt_tokens", b"0") or 0)
        if _close(account_id, message_id, text, prompt_tokens):
            closed += 1
        answer_slot_release(account_id=account_id, user_id=user_id, answer_id=message_id)
        client.delete(streaming.live_key(message_id), streaming.stop_key(message_id))
    return closed


def _close(account_id, message_id, text: str, prompt_tokens: int) -> bool:
    account = Account(id=account_id)
    with account_context(account_id), transaction.atomic():
        message = (
            Message.objects.select_for_update().select_related("session")
            .filter(account_id=account_id, pk=message_id, status=Message.Status.STREAMING).first()
        )  # fmt: skip
        if message is None:  # its process finished it meanwhile
            return False
        model = AiModel.objects.filter(name=message.model).first()
        outcome = Outcome(
            status=Message.Status.ERROR, text=text, tokens_in=prompt_tokens if text else 0,
            tokens_out=estimate_tokens(text), error_code="interrupted", error_message=INTERRUPTED,
        )  # fmt: skip
        credits = 0
        if model is not None:
            entry = ModelEntry.of(model)
            credits = hold_close(account, message.reservation_id, outcome, entry, message.session.user, message.pk)
            usage_record(
                account=account, user=message.session.user, feature=FEATURE, model=entry.name,
                provider=entry.provider, tokens_in=outcome.tokens_in, tokens_out=outcome.tokens_out,
                credits=credits, status="error", error=f"interrupted: {INTERRUPTED}",
                reference=Reference(REFERENCE_TYPE, str(message.pk)),
            )  # fmt: skip
        Message.objects.filter(pk=message.pk).update(
            status=outcome.status, content=text, tokens_in=outcome.tokens_in, tokens_out=outcome.tokens_out,
            credits_charged=credits, error_code=outcome.error_code, error_message=outcome.error_message,
            completed_at=timezone.now(),
        )  # fmt: skip
    log.info("closed orphaned answer %s (%d characters kept, %s credits)", message_id, len(text), credits)
    return True
