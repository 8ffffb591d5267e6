"""Persona pages, included by the root URLconf under `personas/`."""

from django.urls import path

from . import views

app_name = "personas"

urlpatterns = [
    path("", views.GalleryView.as_view(), name="gallery"),
    path("new/", views.CreateView.as_view(), name="create"),
    path("<uuid:pk>/", views.DetailView.as_view(), name="detail"),
    path("<uuid:pk>/edit/", views.EditView.as_view(), name="edit"),
    path("<uuid:pk>/delete/", views.DeleteView.as_view(), name="delete"),
    path("<uuid:pk>/knowledge/", views.KnowledgeView.as_view(), name="knowledge"),
]
