"""Knowledge pages, included by the root URLconf under `knowledge/`."""

from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("", views.UnitListView.as_view(), name="units"),
    path("units/<uuid:pk>/", views.UnitDetailView.as_view(), name="unit"),
    path("units/<uuid:pk>/status.json", views.UnitStatusView.as_view(), name="unit_status"),
    path("units/<uuid:pk>/edit/", views.UnitEditView.as_view(), name="unit_edit"),
    path("units/<uuid:pk>/delete/", views.UnitDeleteView.as_view(), name="unit_delete"),
    path("units/<uuid:pk>/upload/", views.UnitUploadView.as_view(), name="unit_upload"),
    path("documents/<uuid:pk>/", views.DocumentDetailView.as_view(), name="document"),
    path("documents/<uuid:pk>/download/", views.DocumentDownloadView.as_view(), name="document_download"),
    path("documents/<uuid:pk>/pause/", views.DocumentPauseView.as_view(), name="document_pause"),
    path("documents/<uuid:pk>/resume/", views.DocumentResumeView.as_view(), name="document_resume"),
    path("documents/<uuid:pk>/cancel/", views.DocumentCancelView.as_view(), name="document_cancel"),
    path("documents/<uuid:pk>/retry/", views.DocumentRetryView.as_view(), name="document_retry"),
    path("documents/<uuid:pk>/delete/", views.DocumentDeleteView.as_view(), name="document_delete"),
]
