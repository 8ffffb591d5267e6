"""HTML pages of the canvas studio."""

from django.urls import path

from . import urls_builder, urls_content, urls_integrations, urls_media, views, views_tracking

app_name = "canvas"

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="projects"),
    path("new/", views.ProjectCreateView.as_view(), name="project_new"),
    path("projects/<uuid:pk>/", views.ProjectView.as_view(), name="project"),
    path("projects/<uuid:pk>/edit/", views.ProjectEditView.as_view(), name="project_edit"),
    path("projects/<uuid:pk>/archive/", views.ProjectArchiveView.as_view(), name="project_archive"),
    path("projects/<uuid:pk>/restore/", views.ProjectRestoreView.as_view(), name="project_restore"),
    path("projects/<uuid:pk>/collaborators/", views.CollaboratorAddView.as_view(), name="collaborator_add"),
    path("collaborators/<uuid:pk>/", views.CollaboratorChangeView.as_view(), name="collaborator_change"),
    path("collaborators/<uuid:pk>/remove/", views.CollaboratorRemoveView.as_view(), name="collaborator_remove"),
    path(
        "campaigns/<uuid:pk>/analytics/", views_tracking.CampaignAnalyticsView.as_view(), name="campaign_analytics"
    ),
    *urls_builder.urlpatterns,
    *urls_media.urlpatterns,
    *urls_integrations.urlpatterns,
    *urls_content.urlpatterns,
]
