"""Stopping and watching an answer from anywhere: the socket that asked, another
tab or device, another process, the REST API. The process that runs an answer
listens on the chat's control group (see generation.Registry)."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext

from accounts.tenancy.context import account_context
from aiplatform import redis_clients
from aiplatform.errors import Conflict

from ..models import Message
from ..selectors import session_get_for_user, streaming_answer
from . import streaming
from .dbthreads import db
from .generation import registry
from .ratelimits import redis_client


def _stop_elsewhere(account_id, session_id, message_id) -> None:
    """Ask whichever process runs the answer to stop it: on its control group, and in
    Redis for the snapshot loop in case the owner was not listening yet."""
    redis_client().set(streaming.stop_key(message_id), "1", ex=settings.CHAT_GENERATION_TIMEOUT_SECONDS)
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        streaming.control_group(account_id, session_id), {"type": streaming.STOP, "session_id": str(session_id)}
    )


def answer_stop(*, account, user, session_id, wait: bool = False) -> Message:
    """Stop the answer streaming in a chat (from any process); with `wait`, wait up
    to CHAT_STOP_WAIT_SECONDS for its final state. Conflict when nothing streams."""
    with account_context(account.id):
        session = session_get_for_user(account, user, session_id)
        answer = streaming_answer(session)
    if answer is None:
        raise Conflict(gettext("No answer is being written in this chat."), code="nothing_to_stop")
    _stop_elsewhere(account.id, session.pk, answer.pk)
    deadline = time.monotonic() + (settings.CHAT_STOP_WAIT_SECONDS if wait else 0)
    while True:
        with account_context(account.id):
            answer = Message.objects.get(account=account, pk=answer.pk)
        if answer.is_final or time.monotonic() >= deadline:
            return answer
        time.sleep(0.05)


async def answer_stop_async(*, account, user, session_id) -> None:
    """A socket's stop: straight to the task when this process runs the answer (no
    Redis), else through the answer's control group. Conflict when nothing streams."""
    if registry().stop_local(str(session_id)):
        return

    def elsewhere() -> None:
        with account_context(account.id):
            answer = streaming_answer(session_get_for_user(account, user, session_id))
        if answer is None:
            raise Conflict(gettext("No answer is being written in this chat."), code="nothing_to_stop")
        _stop_elsewhere(account.id, session_id, answer.pk)

    await db(elsewhere)


async def answer_watch(*, account_id, session_id, reply_to: str) -> None:
    """Ask the process that runs the session's answer for the text so far (a `sync`
    frame to `reply_to`) and for the frames that follow."""
    layer = get_channel_layer()
    await layer.group_send(
        streaming.control_group(account_id, session_id),
        {"type": streaming.WATCH, "session_id": str(session_id), "reply_to": reply_to},
    )


async def live_text(message_id) -> str | None:
    """The last snapshot of an answer in progress (when its process does not answer)."""
    text = await redis_clients.async_client("cache").hget(streaming.live_key(message_id), "text")
    return text.decode() if text is not None else None
