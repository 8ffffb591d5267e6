"""Websocket routes of the canvas studio (gathered by aiplatform/routing.py)."""

from django.urls import path

from .consumers import CanvasConsumer

websocket_urlpatterns = [path("ws/canvas/<uuid:project_id>/", CanvasConsumer.as_asgi())]
