"""Chat pages, included by the root URLconf under `chats/`."""

from django.urls import path

from . import views

app_name = "chats"
urlpatterns = [
    path("", views.ChatPageView.as_view(), name="index"),
    path("new/", views.NewChatView.as_view(), name="new"),
    path("<uuid:pk>/", views.ChatPageView.as_view(), name="session"),
]
