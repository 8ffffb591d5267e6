"""REST API of the canvas studio (gathered by aiplatform/api/urls.py)."""

from . import api

routes = [
    ("creator-categories", api.CreatorCategoryViewSet, "creator-category"),
    ("creators", api.CreatorViewSet, "creator"),
    ("followed-creators", api.FollowedCreatorViewSet, "followed-creator"),
    ("projects", api.ProjectViewSet, "canvas-project"),
    ("project-collaborators", api.CollaboratorViewSet, "project-collaborator"),
]
paths: list = []
