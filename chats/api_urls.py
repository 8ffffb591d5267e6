"""Routes this app adds to the one API router (see aiplatform/api/urls.py)."""

from . import api

routes = [("chat-sessions", api.ChatSessionViewSet, "chat-session")]
paths: list = []
