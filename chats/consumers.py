"""`ws/chats/<session_id>/`: one chat session live.

Client frames: `{"type": "send", "content", "edit_of"?}`, `{"type": "regenerate",
"message_id"}`, `{"type": "stop"}`, `{"type": "sync"}` (ask again for the answer
in progress, after a gap). Server frames: see chats/services/streaming.py.

The user comes from the session cookie and the account from the server-side
session (never from the client); the chat must be this user's in that account,
else the socket is closed with 4404. Every message is checked again by the
service (membership, role, chat, persona, limits, credits).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext

from accounts.selectors import membership_for_user
from accounts.tenancy.context import account_context, user_context
from accounts.tenancy.middleware import SESSION_KEY
from aiplatform.errors import InvalidInput, ServiceError

from .models import Message
from .selectors import session_get_for_user, streaming_answer
from .services import control, generation, streaming
from .services.dbthreads import db
from .services.messages import answer_request

SYNC_FALLBACK_SECONDS = 2.0  # no answer from the owner process: show the last snapshot


def _open(user, session_key_account, session_id) -> tuple[Any, str | None] | None:
    """(account, id of the answer in progress) when the chat is the user's, else None."""
    with user_context(user.pk):
        membership = membership_for_user(user, session_key_account)
    if membership is None:
        return None
    account = membership.account
    with account_context(account.id):
        try:
            session = session_get_for_user(account, user, session_id)
        except ServiceError:
            return None
        answer = streaming_answer(session)
    return account, (str(answer.pk) if answer else None)


def _streaming_id(account, user, session_id) -> str | None:
    with account_context(account.id):
        answer = streaming_answer(session_get_for_user(account, user, session_id))
    return str(answer.pk) if answer else None


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        session = self.scope.get("session")
        self.session_id = str(self.scope["url_route"]["kwargs"]["session_id"])
        opened = await db(_open, user, session.get(SESSION_KEY) if session else None, self.session_id)
        if opened is None:
            await self.close(code=4404)
            return
        self.user = user
        self.account, streaming_id = opened
        self.account_id = str(self.account.id)
        self.group = streaming.session_group(self.account_id, self.session_id)
        self.direct_ids: deque[str] = deque(maxlen=32)  # answers this socket gets straight from the task
        self.sink = self.send_json  # one bound method: `detach` compares identity
        self.waiting_sync: set[str] = set()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(streaming.HelloFrame(type="hello", session_id=self.session_id, streaming=streaming_id))
        if streaming_id:
            await self._watch(streaming_id)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            running = generation.registry().generations
            for message_id in self.direct_ids:
                gen = running.get(message_id)
                if gen is not None:
                    gen.detach(self.sink)

    # --- client frames ---------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "send":
                await self._answer(content=content.get("content"), edit_of=content.get("edit_of"))
            elif kind == "regenerate":
                await self._answer(regenerate=content.get("message_id") or "")
            elif kind == "stop":
                await control.answer_stop_async(account=self.account, user=self.user, session_id=self.session_id)
            elif kind == "sync":
                streaming_id = await db(_streaming_id, self.account, self.user, self.session_id)
                if streaming_id:
                    await self._watch(streaming_id)
            else:
                raise InvalidInput(gettext("Unknown frame type."), code="unknown_frame")
        except ServiceError as exc:
            await self.send_json(streaming.error_frame(exc))

    async def _answer(self, **request: Any) -> None:
        prepared = await db(answer_request, account=self.account, user=self.user, session_id=self.session_id,
                            **request)  # fmt: skip
        self.direct_ids.append(prepared.answer_id)
        # The task sends this socket the question and the placeholder, then the tokens.
        generation.registry().start(prepared, sink=self.sink)

    async def _watch(self, message_id: str) -> None:
        self.waiting_sync.add(message_id)
        await control.answer_watch(account_id=self.account_id, session_id=self.session_id,
                                      reply_to=self.channel_name)  # fmt: skip
        asyncio.get_running_loop().call_later(SYNC_FALLBACK_SECONDS, self._fallback, message_id)

    def _fallback(self, message_id: str) -> None:
        if message_id in self.waiting_sync:
            asyncio.ensure_future(self._sync_from_snapshot(message_id))

    async def _sync_from_snapshot(self, message_id: str) -> None:
        """The owner did not answer (busy or gone): the last snapshot in Redis."""
        text = await control.live_text(message_id)
        if message_id in self.waiting_sync and text is not None:
            self.waiting_sync.discard(message_id)
            await self.send_json(streaming.SyncFrame(type="sync", message_id=message_id, text=text, offset=len(text)))

    # --- layer messages ------------------------------------------------------------------

    async def chat_frame(self, event: dict) -> None:
        frame = event["frame"]
        message_id = frame.get("message_id")
        if message_id in self.direct_ids:
            return  # this socket asked for that answer and gets it directly
        kind = frame.get("type")
        if kind == "sync":
            self.waiting_sync.discard(message_id)
        elif kind in ("done", "error"):
            self.waiting_sync.discard(message_id)
        await self.send_json(frame)
        if kind == "message" and frame["message"]["status"] == Message.Status.STREAMING:
            await self._watch(message_id)
