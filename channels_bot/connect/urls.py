"""Connecting channels: the OAuth start and callback of each platform (owners and admins)."""

from django.urls import path

from . import views

app_name = "channels_bot_connect"

urlpatterns = [
    path("", views.ConnectIndexView.as_view(), name="index"),
    path("<slug:flow>/start/", views.ConnectStartView.as_view(), name="start"),
    path("<slug:flow>/callback/", views.ConnectCallbackView.as_view(), name="callback"),
    path("<slug:flow>/choose/", views.ConnectChooseView.as_view(), name="choose"),
]
