from django.apps import AppConfig


class CanvasConfig(AppConfig):
    name = "canvas"
    verbose_name = "Canvas studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Job stores and types register on import; a worker must know them before it
        # runs a job (the queue looks the store up first).
        from . import jobs  # noqa: F401
