"""Routes this app adds to the one API router (see aiplatform/api/urls.py)."""

from django.urls import path

from . import api

routes = [
    ("decision-units", api.DecisionUnitViewSet, "decision-unit"),
    ("documents", api.DocumentViewSet, "document"),
]
paths = [path("knowledge/search/", api.SearchView.as_view(), name="knowledge-search")]
