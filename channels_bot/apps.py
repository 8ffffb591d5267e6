from django.apps import AppConfig


class ChannelsBotConfig(AppConfig):
    name = "channels_bot"
    verbose_name = "Channel bot"
    default_auto_field = "django.db.models.BigAutoField"
