"""Routes this app adds to the one API router (see aiplatform/api/urls.py)."""

from . import api

routes = [("personas", api.PersonaViewSet, "persona")]
paths: list = []
