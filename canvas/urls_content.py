"""Pages of the content studio (canvas/views_content.py)."""

from django.urls import path

from . import views_content

urlpatterns = [
    path("content/", views_content.ContentStudioView.as_view(), name="content"),
    path("content/add/", views_content.ContentAddView.as_view(), name="content_add"),
    path("content/<uuid:pk>/", views_content.ContentPieceView.as_view(), name="content_piece"),
]
