"""HTML pages of the canvas studio."""

from django.urls import path

from . import views

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
]
