"""Webhook endpoints, one per platform: /webhooks/meta/, /webhooks/x/, /webhooks/linkedin/."""

app_name = "channels_bot_webhooks"

urlpatterns: list = []
