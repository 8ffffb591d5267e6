"""Websocket routes of every app, gathered in one list for the ASGI router."""

from accounts.routing import websocket_urlpatterns as accounts_ws
from canvas.routing import websocket_urlpatterns as canvas_ws
from chats.routing import websocket_urlpatterns as chats_ws

websocket_urlpatterns = [*accounts_ws, *chats_ws, *canvas_ws]
