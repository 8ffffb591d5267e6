"""Live account events (member joined, role changed…) for the open pages of an account."""

from __future__ import annotations

from typing import TypedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.events import group_name
from accounts.selectors import membership_for_user
from accounts.tenancy.context import user_context
from accounts.tenancy.middleware import SESSION_KEY


class HelloFrame(TypedDict):
    type: str
    account_id: str
    role: str


class EventFrame(TypedDict):
    type: str
    event: str
    data: dict


@database_sync_to_async
def _active_membership(user, account_id):
    with user_context(user.pk):
        membership = membership_for_user(user, account_id)
        return (str(membership.account_id), membership.role) if membership else None


class AccountEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        # The account comes from the server-side session, never from the client.
        session = self.scope.get("session")
        found = await _active_membership(user, session.get(SESSION_KEY) if session else None)
        if found is None:
            await self.close(code=4403)
            return
        self.account_id, role = found
        self.group = group_name(self.account_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(HelloFrame(type="hello", account_id=self.account_id, role=role))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        pass  # server-to-client only

    async def account_event(self, message):
        await self.send_json(EventFrame(type="event", event=message["event"], data=message["data"]))
