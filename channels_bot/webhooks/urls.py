"""Webhook endpoints, one per platform: /webhooks/meta/, /webhooks/x/, /webhooks/linkedin/."""

from django.urls import path

from . import views

app_name = "channels_bot_webhooks"

urlpatterns = [
    path("meta/", views.meta_webhook, name="meta"),
    path("x/", views.x_webhook, name="x"),
    path("linkedin/", views.linkedin_webhook, name="linkedin"),
]
