"""Routes this app adds to the one API router (see aiplatform/api/urls.py)."""

from django.urls import path

from . import api, api_library

routes = [
    ("services", api.ServiceViewSet, "service"),
    ("results", api.ResultViewSet, "service-result"),
    ("prompt-templates", api.PromptTemplateViewSet, "prompt-template"),
    ("experiments", api.ExperimentViewSet, "experiment"),
    *api_library.routes,
]

paths = [
    path("shared-results/<str:token>/", api.SharedResultView.as_view(), name="shared-result"),
]
