"""HTML pages of the channel bot: the agent inbox, channels, products, orders."""

from django.urls import path  # noqa: F401

app_name = "channels_bot"

urlpatterns: list = []
