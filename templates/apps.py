from django.apps import AppConfig


class TemplatesConfig(AppConfig):
    name = "templates"
    verbose_name = "Prompt templates and services"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from templates.models import ServiceResult
        from templates.services import offline  # noqa: F401  (registers the deploy check)
        from templates.services.files import result_files_forget

        post_delete.connect(result_files_forget, sender=ServiceResult, dispatch_uid="service-result-files")
