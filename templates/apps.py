from django.apps import AppConfig


class TemplatesConfig(AppConfig):
    name = "templates"
    verbose_name = "Prompt templates and services"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from templates.services import offline  # noqa: F401  (registers the deploy check)
