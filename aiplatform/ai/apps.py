from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "aiplatform.ai"
    label = "ai"
    verbose_name = "AI gateway"
    default_auto_field = "django.db.models.BigAutoField"
