"""Connecting channels: the OAuth start and callback of each platform."""

app_name = "channels_bot_connect"

urlpatterns: list = []
