"""Websocket routes of the chats app (gathered by aiplatform/routing.py)."""

from django.urls import path

from .consumers import ChatConsumer

websocket_urlpatterns = [path("ws/chats/<uuid:session_id>/", ChatConsumer.as_asgi())]
