"""The ASGI app of the `canvas` benchmark: the project's whole application, plus a
bare Channels echo at `ws/echo/<project_id>/` (the reference).

The echo consumer does what the board socket does minus the board: it joins a
per-project group on the same channel layer and relays every text frame it gets
to that group, verbatim. No session, no database, no JSON. So the two routes of
one process differ by exactly what the board adds: the session user, the
membership and project checks, the conditional UPDATE and its commit, and the
`applied` frame built from the row.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path

from aiplatform.asgi import application as project_application


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.group = f"echo-{self.scope['url_route']['kwargs']['project_id']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send(self.group, {"type": "echo.frame", "text": text_data})

    async def echo_frame(self, event: dict) -> None:
        await self.send(text_data=event["text"])


_echo = URLRouter([path("ws/echo/<uuid:project_id>/", EchoConsumer.as_asgi())])


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"].startswith("/ws/echo/"):
        return await _echo(scope, receive, send)
    return await project_application(scope, receive, send)


__all__ = ["application"]
